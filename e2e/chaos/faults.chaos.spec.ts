import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Cluster,
  REPO_ROOT,
  ServiceProcess,
  StorefrontClient,
  TcpProxy,
  checkInvariantsByRule,
  signDevToken,
  waitForQuiet,
  type RuleResult,
  type ServiceName,
} from '@orderflow/testkit';
import { restartPostgresImmediately } from './infra';
import { CHAOS_CATALOG, OrderLoad, OutcomeWatcher } from './load';
import { elasticMqKeepsFifoOrderAcrossRestart } from './elasticmq-fifo';
import { chaosSettings } from './settings';

const settings = chaosSettings();
// The testkit (services' environment, lag, dead letters, invariants) reaches the broker
// through these variables: from here on they name the suite's own broker.
Object.assign(process.env, settings.broker.env);
const brokerName = { kafka: 'Kafka', rabbitmq: 'RabbitMQ', sqs: 'SQS (ElasticMQ)' }[settings.broker.kind];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const print = (text: string) => process.stdout.write(`${text}\n`);

/** The service whose PostgreSQL connection goes through a proxy, and the one whose broker connection does. */
const PG_CUT_SERVICE: ServiceName = 'inventory';
const BROKER_CUT_SERVICE: ServiceName = 'payment';
const REBALANCED_SERVICE: ServiceName = 'inventory';

interface Context {
  cluster: Cluster;
  pgProxy: TcpProxy;
  brokerProxy: TcpProxy;
}

interface Scenario {
  id: string;
  title: string;
  /** Runs the fault while the load goes on; resolves when the fault is over (process restarted, link healed). */
  fault: (ctx: Context) => Promise<string>;
}

const killAndRestart = (name: ServiceName): Scenario => ({
  id: `kill-${name}`,
  title: `kill -9 ${name} mid-load, then restart it`,
  fault: async ({ cluster }) => {
    const service = cluster.services[name];
    await service.stop('SIGKILL');
    await sleep(settings.downSeconds * 1000);
    const restarted = Date.now();
    service.start();
    await service.waitReady();
    return `down ${settings.downSeconds} s, ready ${seconds(Date.now() - restarted)} after restart`;
  },
});

const SCENARIOS: Scenario[] = [
  ...(['orders', 'payment', 'inventory', 'shipping'] as const).map(killAndRestart),
  {
    id: 'postgres-restart',
    title: 'PostgreSQL restarted with -m immediate',
    fault: async () => {
      const started = Date.now();
      await restartPostgresImmediately(settings);
      return `PostgreSQL back after ${seconds(Date.now() - started)}`;
    },
  },
  {
    id: 'broker-kill',
    title: 'the broker killed with SIGKILL, then restarted',
    fault: async () => {
      const pid = await settings.broker.kill();
      await sleep(settings.downSeconds * 1000);
      const started = Date.now();
      await settings.broker.start();
      return `pid ${pid} killed, down ${settings.downSeconds} s, broker ready ${seconds(Date.now() - started)} after restart`;
    },
  },
  {
    id: 'postgres-cut',
    title: `network cut between ${PG_CUT_SERVICE} and PostgreSQL`,
    fault: async ({ pgProxy }) => {
      const open = pgProxy.openConnections;
      // Without a connection through the proxy the cut would test nothing.
      if (open === 0) throw new Error(`${PG_CUT_SERVICE} has no connection through the proxy`);
      pgProxy.cut();
      await sleep(settings.cutSeconds * 1000);
      const before = pgProxy.connections;
      pgProxy.heal();
      return `cut ${settings.cutSeconds} s, dropping ${open} open connection(s); ${before} connection(s) through the proxy by the heal`;
    },
  },
  {
    id: 'broker-cut',
    title: `network cut between ${BROKER_CUT_SERVICE} and the broker`,
    fault: async ({ brokerProxy }) => {
      const open = brokerProxy.openConnections;
      // Without a connection through the proxy the cut would test nothing.
      if (open === 0) throw new Error(`${BROKER_CUT_SERVICE} has no connection through the proxy`);
      brokerProxy.cut();
      await sleep(settings.cutSeconds * 1000);
      const before = brokerProxy.connections;
      brokerProxy.heal();
      return `cut ${settings.cutSeconds} s, dropping ${open} open connection(s); ${before} connection(s) through the proxy by the heal`;
    },
  },
  {
    id: 'rebalance',
    title: `a second ${REBALANCED_SERVICE} joins its consumer group mid-load, then leaves`,
    fault: async ({ cluster }) => {
      const first = cluster.services[REBALANCED_SERVICE];
      const second = new ServiceProcess(
        REBALANCED_SERVICE,
        first.port + 10,
        first.environment,
        join(first.logFile, '..', `${REBALANCED_SERVICE}-2.log`),
      );
      const joined = Date.now();
      second.start();
      let left: { code: number | null };
      try {
        await second.waitReady();
        await sleep(settings.loadSeconds * 1000);
      } finally {
        left = await second.stop('SIGTERM');
      }
      if (left.code !== 0) throw new Error(`the second ${REBALANCED_SERVICE} exited with code ${left.code} on SIGTERM`);
      return `second instance ran ${seconds(Date.now() - joined)}, left cleanly`;
    },
  },
];

interface Figures {
  id: string;
  accepted: number;
  refused: string;
  completed: number;
  cancelled: string;
  rate: string;
  fault: string;
  resumed: string;
  drained: string;
  rules: RuleResult[];
  notTerminal: number;
}

const { leftOut } = settings;
// What CHAOS_SCENARIOS names is never left out (settings.ts).
const selected = SCENARIOS.filter((s) => (!settings.scenarios || settings.scenarios.includes(s.id)) && !(s.id in leftOut));
if (settings.scenarios?.some((id) => !SCENARIOS.some((s) => s.id === id))) {
  throw new Error(`CHAOS_SCENARIOS names unknown scenarios; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
}

if (settings.broker.kind === 'sqs' && 'broker-kill' in leftOut) {
  describe('ElasticMQ, the SQS of this suite', () => {
    it("gives out the next message of a FIFO group while an earlier one is in flight, once restarted (why broker-kill is left out on SQS; when this fails, ElasticMQ keeps the order: remove broker-kill from LEFT_OUT in settings.ts)", async () => {
      await settings.broker.start();
      const { kept, delivered } = await elasticMqKeepsFifoOrderAcrossRestart(settings.broker, settings.broker.env['SQS_ENDPOINT']!);
      expect({ kept, delivered }).toEqual({ kept: false, delivered: ['second'] });
    }, 120_000);
  });
}

describe(`chaos (${settings.mode}) on ${brokerName}: under ${settings.rate} orders/s, every accepted order ends terminal and every invariant holds after each fault`, () => {
  const ctx = {} as Context;
  const figures: Figures[] = [];
  let customers: StorefrontClient[] = [];
  let ordersPlaced = 0;

  beforeAll(async () => {
    // The broker may still be down if a previous run was interrupted mid-scenario.
    await settings.broker.start();
    const proxied = settings.broker.proxied;
    if (!proxied) throw new Error("the suite's broker has no proxied address for the broker cut");
    const id = randomBytes(3).toString('hex');
    const secret = randomBytes(32).toString('hex');
    ctx.pgProxy = new TcpProxy(settings.postgresProxyPort, settings.postgresPort);
    ctx.brokerProxy = new TcpProxy(settings.brokerProxyPort, proxied.targetPort);
    await ctx.pgProxy.start();
    await ctx.brokerProxy.start();
    ctx.cluster = new Cluster({
      topicPrefix: `chaos-${id}.`,
      databaseSuffix: `_chaos_${id}`,
      basePort: settings.basePort,
      jwtSecret: secret,
      logDir: join(REPO_ROOT, '.cache/chaos/logs', id),
      extraEnv: {
        [PG_CUT_SERVICE]: { DATABASE_URL: `postgres://postgres@127.0.0.1:${settings.postgresProxyPort}` },
        [BROKER_CUT_SERVICE]: proxied.env,
      },
    });
    print(`chaos run ${id} on ${brokerName} (${Object.entries(settings.broker.env).map(([k, v]) => `${k}=${v}`).join(' ')}): logs in .cache/chaos/logs/${id}`);
    await ctx.cluster.start();
    const catalogFile = join(REPO_ROOT, '.cache/chaos', `catalog-${id}.json`);
    writeFileSync(catalogFile, JSON.stringify(CHAOS_CATALOG));
    await ctx.cluster.seed(catalogFile);
    customers = [1, 2, 3, 4, 5].map(
      (n) => new StorefrontClient(ctx.cluster.url('orders'), signDevToken(`chaos-customer-${n}`, secret), 10_000),
    );
    const deadline = Date.now() + 60_000;
    while ((await customers[0]!.products()).body.length < CHAOS_CATALOG.length) {
      if (Date.now() > deadline) throw new Error('the chaos catalog never reached the storefront');
      await sleep(200);
    }
  }, 300_000);

  afterAll(async () => {
    await ctx.cluster?.stop();
    await ctx.cluster?.dropDatabases().catch(() => undefined);
    await ctx.pgProxy?.stop();
    await ctx.brokerProxy?.stop();
    print(report(figures));
    for (const [id, why] of Object.entries(leftOut)) print(`${id} not run on ${brokerName}: ${why}`);
  }, 120_000);

  it.each(selected.map((s) => [s.title, s] as const))('%s', async (_title, scenario) => {
    const load = new OrderLoad(customers, settings.rate, ordersPlaced);
    const watcher = new OutcomeWatcher(ctx.cluster, load);
    load.start();
    watcher.start();
    let faultNote: string;
    let faultEnded: number;
    try {
      await sleep(settings.loadSeconds * 1000);
      const faultStarted = Date.now();
      faultNote = await scenario.fault(ctx);
      faultEnded = Date.now();
      faultNote = `${faultNote}; fault lasted ${seconds(faultEnded - faultStarted)}`;
      await sleep(settings.loadSeconds * 1000);
    } finally {
      await load.stop();
      ordersPlaced += load.attempted;
    }
    const notTerminal = await watcher.drain(settings.drainSeconds * 1000);
    await watcher.stop();

    const crashed = Object.values<ServiceProcess>(ctx.cluster.services)
      .filter((s) => !s.running)
      .map((s) => s.name);
    // A service that died of the fault is a failure; restart it so the next scenario starts whole.
    for (const name of crashed) ctx.cluster.services[name].start();
    await Promise.all(crashed.map((name) => ctx.cluster.services[name].waitReady()));
    const quiet = await waitForQuiet(ctx.cluster, settings.drainSeconds * 1000).then(
      () => [],
      (error: Error) => [error.message],
    );
    const rules = [
      {
        rule: 'every accepted order terminal',
        violations: notTerminal.slice(0, 5).map((id) => `order ${id} not terminal after ${settings.drainSeconds} s`),
      },
      { rule: 'every service still running', violations: crashed.map((name) => `${name} exited during the scenario`) },
      { rule: 'system quiet (no lag, outbox empty)', violations: quiet },
      {
        // A fault may refuse an order (503 while the database is down, no connection while
        // orders is down), never answer it with an internal error.
        rule: 'no order answered with a 5xx other than 503',
        violations: [...load.refused].filter(([why]) => /^HTTP 5\d\d$/.test(why) && why !== 'HTTP 503').map(([why, n]) => `${n} × ${why}`),
      },
      ...(await checkInvariantsByRule(ctx.cluster)),
    ];

    const outcomes = load.accepted.map((a) => ({ ...a, outcome: watcher.outcomes.get(a.orderId) }));
    const before = outcomes.filter((o) => o.at <= faultEnded && o.outcome).map((o) => o.outcome!.at);
    const after = outcomes.filter((o) => o.at > faultEnded && o.outcome).map((o) => o.outcome!.at);
    const reasons = new Map<string, number>();
    for (const o of outcomes)
      if (o.outcome?.status === 'CANCELLED')
        reasons.set(o.outcome.reason ?? '?', (reasons.get(o.outcome.reason ?? '?') ?? 0) + 1);
    const row: Figures = {
      id: scenario.id,
      accepted: load.accepted.length,
      refused: [...load.refused].map(([why, n]) => `${n} ${why}`).join(', ') || '0',
      completed: outcomes.filter((o) => o.outcome?.status === 'COMPLETED').length,
      cancelled: `${[...reasons.values()].reduce((a, b) => a + b, 0)} (${[...reasons].map(([why, n]) => `${why} ${n}`).join(', ')})`,
      rate: `${(load.accepted.length / load.seconds).toFixed(1)}/s accepted of ${(load.attempted / load.seconds).toFixed(1)}/s placed`,
      fault: faultNote,
      resumed: after.length ? seconds(Math.min(...after) - faultEnded) : 'n/a',
      drained: before.length ? seconds(Math.max(0, Math.max(...before) - faultEnded)) : 'n/a',
      rules,
      notTerminal: notTerminal.length,
    };
    figures.push(row);
    print(describeScenario(scenario, row));

    // One line per broken rule: the full list is printed above.
    expect(
      rules
        .filter((r) => r.violations.length > 0)
        .map((r) => `${r.rule}: ${r.violations[0]}${r.violations.length > 1 ? ` (+${r.violations.length - 1} more)` : ''}`),
    ).toEqual([]);
  });
});

function describeScenario(scenario: Scenario, f: Figures): string {
  return [
    `\n── ${scenario.id}: ${scenario.title}`,
    `   orders accepted ${f.accepted}, completed ${f.completed}, cancelled ${f.cancelled}, refused ${f.refused}`,
    `   rate ${f.rate}`,
    `   fault: ${f.fault}`,
    `   recovery: first order placed after the fault terminal ${f.resumed} after it; every order accepted before its end terminal ${f.drained} after it`,
    ...f.rules.map(
      (r) =>
        `   ${r.violations.length ? '✗' : '✓'} ${r.rule}${r.violations.length ? `: ${r.violations.length} violation(s)\n       ${r.violations.slice(0, 5).join('\n       ')}` : ''}`,
    ),
  ].join('\n');
}

function report(rows: Figures[]): string {
  const lines = rows.map((f) => {
    const failed = f.rules.filter((r) => r.violations.length > 0).map((r) => r.rule);
    return `${f.id.padEnd(17)} ${String(f.accepted).padStart(5)} ${String(f.completed).padStart(5)} ${f.cancelled.split(' ')[0]!.padStart(5)}  ${f.rate.split(' ')[0]!.padStart(7)}  ${f.resumed.padStart(7)}  ${f.drained.padStart(7)}  ${failed.length ? `FAILED: ${failed.join('; ')}` : 'all checks held'}`;
  });
  return [
    `\nchaos summary (${settings.mode} on ${brokerName}: ${settings.rate} orders/s, ${settings.loadSeconds} s load either side of each fault, cuts ${settings.cutSeconds} s)`,
    `${'scenario'.padEnd(17)} ${'accep'.padStart(5)} ${'compl'.padStart(5)} ${'cancl'.padStart(5)}  ${'rate'.padStart(7)}  ${'resumed'.padStart(7)}  ${'drained'.padStart(7)}  checks`,
    ...lines,
  ].join('\n');
}
