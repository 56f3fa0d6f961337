#!/usr/bin/env node
// npm run bench [-- --help]: the measuring instrument (docs/benchmark.md).
//
// For each broker of --broker (kafka by default; all = kafka, rabbitmq, sqs in turn):
// 1. makes sure the broker runs, starts the four services on it as processes
//    (testkit Cluster with BROKER set: ports 3200-3203, topics/queues and groups
//    bench-<id>.*, databases *_bench_<id>), seeds large stock;
// 2. measures their idle CPU, and the broker's;
// 3. sweeps offered rates open-loop (load generator in its own process) and, per
//    rate, reads latency from the orders service's own event times, CPU per
//    order by process from /proc (services, PostgreSQL, the broker), commits and
//    rows from pg_stat_database, broker requests from each service's /metrics;
// 4. waits until the system is quiet, checks the invariants, stops the services;
// 5. on Kafka: derives what one order costs the pipeline in Kafka and PostgreSQL
//    work and sweeps a framework-free floor doing exactly that work (floor-work.cjs);
// 6. prints a table per sweep and the ratios, writes results.json and plot.svg.
// With several brokers, one table and one plot (compare.svg) compare them at the end.
// Topics, queues, groups and databases are removed after each broker, also on failure or Ctrl-C.
'use strict';
const { randomBytes } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { connect } = require('node:net');
const { cpus } = require('node:os');
const { join, relative } = require('node:path');
const { Kafka, logLevel } = require('kafkajs');
const { ALL_TOPICS } = require('@orderflow/contracts');
const {
  Cluster,
  REPO_ROOT,
  SERVICES,
  StorefrontClient,
  checkInvariants,
  databaseServerUrl,
  ensureBroker,
  kafkaBrokers,
  managesBroker,
  signDevToken,
  testTransport,
  waitForQuiet,
} = require('@orderflow/testkit');
const { brokerAddress, brokerLabel, requestsPerOrder } = require('./bench/brokers.cjs');
const { Child } = require('./bench/child.cjs');
const { comparisonRate, comparisonTable, renderCompareSvg } = require('./bench/compare.cjs');
const { FloorRig } = require('./bench/floor-rig.cjs');
const { deriveFloorWork } = require('./bench/floor-work.cjs');
const {
  CountingClient,
  OrderEvents,
  pgCounters,
  diffCounters,
  scrapeServiceMetrics,
  loopDelayOf,
  consumerBusy,
  requestDelta,
  topicEnds,
  groupOffsets,
  lagOf,
  cpuSnapshot,
  cpuDelta,
} = require('./bench/observe.cjs');
const { OptionError, USAGE, expectedSeconds, parseOptions } = require('./bench/options.cjs');
const { findBrokerPid, postmasterOf, rssMb } = require('./bench/procfs.cjs');
const { table, cpuSplit, renderSvg } = require('./bench/report.cjs');
const { compareCapacity, fmt, latencySummary, perOrder, shouldStop, sustainedVerdict } = require('./bench/stats.cjs');
const { SKUS, worstCaseUnitsPerSku } = require('./bench/workload.cjs');

const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(0)} s`;
const minutes = (s) => `${Math.max(1, Math.round(s / 60))} min`;
const CUSTOMERS = 8;
const HTTP_TIMEOUT_MS = 30_000;
// Reserved at the end of the budget: quiet + invariants, and cleanup.
const QUIET_RESERVE_S = 30;
// PGSTAT_IDLE_INTERVAL (10 s) plus a margin: the longest an idle backend keeps its statistics.
const STATS_IDLE_FLUSH_MS = 11_000;
const CLEANUP_RESERVE_S = 10;

/** Progress on one rewritten line on a terminal, a line every 5 s otherwise; `tag` says which broker's run it is. */
function progressPrinter(tag = '') {
  let last = 0;
  return (text) => {
    if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K   ${tag}${text}`);
    else if (Date.now() - last >= 5_000) {
      last = Date.now();
      out(`   ${tag}${text}`);
    }
  };
}
const endProgress = () => process.stdout.isTTY && process.stdout.write('\r\x1b[2K');

/** An OTLP/HTTP endpoint that accepts trace exports and discards them, counting requests and bytes. */
async function startTraceSink() {
  const stats = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk) => (stats.bytes += chunk.length));
    req.on('end', () => {
      stats.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Writes figures as JSON; an unknown figure is written as null rather than left out, so every step has the same keys. */
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, (_, v) => (v === undefined ? null : v), 2)}\n`);

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(2);
  }
  if (options.help) {
    out(USAGE);
    return 0;
  }

  const startedAt = Date.now();
  const id = randomBytes(3).toString('hex');
  const outDir = join(REPO_ROOT, '.cache/bench', new Date(startedAt).toISOString().replace(/[:.]/g, '-'));
  mkdirSync(outDir, { recursive: true });
  const several = options.brokers.length > 1;

  // Stock must never run out, or cancellations for OUT_OF_STOCK would change the workload mid-sweep.
  // Each broker's run has databases of its own, so one sweep's worth is enough.
  const catalogFile = join(REPO_ROOT, 'scripts/bench-catalog.json');
  const maxOrders = options.rates.reduce((n, r) => n + Math.round(r * options.seconds), 0);
  const catalog = JSON.parse(readFileSync(catalogFile, 'utf8'));
  for (const sku of SKUS) {
    const stock = catalog.find((p) => p.sku === sku)?.stock ?? 0;
    if (stock < worstCaseUnitsPerSku(maxOrders)) {
      throw new Error(
        `${relative(REPO_ROOT, catalogFile)}: ${sku} has ${stock} units, the sweep may take ${worstCaseUnitsPerSku(maxOrders)}; raise its stock`,
      );
    }
  }

  const expected = expectedSeconds(options);
  out(
    `bench ${id} on ${options.brokers.map(brokerLabel).join(', then ')}: rates ${options.rates.join(', ')} orders/s, ${options.seconds} s each; ` +
      `expect about ${minutes(expected.typical)} (at most ${minutes(expected.atMost)}: --budget ${options.budget} s${several ? ' per broker' : ''}); results in ${relative(REPO_ROOT, outDir)}`,
  );

  // --tracing: every service exports every order's spans; a sink here takes them and drops them.
  const traceSink = options.tracing ? await startTraceSink() : undefined;
  if (traceSink) out(`tracing on: every order's spans exported (OTLP/HTTP protobuf) to a sink at ${traceSink.url}`);

  const runs = [];
  const summary = () => ({
    id,
    startedAt: new Date(startedAt).toISOString(),
    options,
    machine: { cores: cpus().length, node: process.version },
    comparedAt: comparisonRate(runs),
    runs,
  });
  const summaryFile = join(outDir, 'results.json');
  let current;
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      endProgress();
      out(`\n${signal}: cleaning up (again to leave at once)…`);
      current?.interrupt(`interrupted by ${signal}`);
      if (several) {
        writeJson(summaryFile, { ...summary(), error: `interrupted by ${signal}` });
        out(`partial results: ${summaryFile}`);
      }
      Promise.resolve(current?.cleanup())
        .then(() => traceSink?.stop())
        .finally(() => process.exit(130));
    });
  }

  let exitCode = 0;
  try {
    for (const [i, broker] of options.brokers.entries()) {
      if (several) out(`\n══ [${i + 1}/${options.brokers.length}] ${brokerLabel(broker)} (${elapsed(startedAt)} into the run)`);
      const dir = several ? join(outDir, broker) : outDir;
      mkdirSync(dir, { recursive: true });
      const sweep = new BrokerSweep({ broker, id, options, outDir: dir, traceSink, several, catalogFile });
      current = sweep;
      try {
        const code = await sweep.run();
        exitCode = Math.max(exitCode, code);
      } catch (error) {
        // One broker failing does not cost the others their run: it is reported in the comparison.
        if (!several) throw error;
        sweep.results.error ??= error.message;
        exitCode = 1;
        out(`\n${brokerLabel(broker)} failed: ${error.message}`);
      }
      runs.push(sweep.results);
    }
    if (several) {
      out(
        `\n══ ${options.brokers.map(brokerLabel).join(' vs ')}: same rates, ${options.seconds} s each, same machine (${cpus().length} cores)`,
      );
      out(comparisonTable(runs));
      const compareFile = join(outDir, 'compare.svg');
      writeFileSync(
        compareFile,
        renderCompareSvg({ title: `Orderflow bench ${new Date(startedAt).toISOString()} — brokers compared`, runs }),
      );
      writeJson(summaryFile, {
        ...summary(),
        finishedAt: new Date().toISOString(),
        durationSeconds: (Date.now() - startedAt) / 1000,
      });
      out(`compare plot: ${compareFile}`);
      out(
        `results:      ${summaryFile} (each broker's own results.json, plot.svg and logs/ in ${relative(REPO_ROOT, outDir)}/<broker>/)`,
      );
    }
  } finally {
    await traceSink?.stop();
    if (several) out(`total ${elapsed(startedAt)}`);
  }
  return exitCode;
}

/** One broker's run: services on it, idle, the sweep, quiet and invariants, the floor on Kafka, its report. */
class BrokerSweep {
  constructor({ broker, id, options, outDir, traceSink, several, catalogFile }) {
    Object.assign(this, { broker, id, options, outDir, traceSink, several, catalogFile });
    this.label = brokerLabel(broker);
    this.results = {
      broker,
      id,
      startedAt: new Date().toISOString(),
      options,
      machine: { cores: cpus().length, node: process.version },
      idle: undefined,
      system: [],
      floor: undefined,
      ratios: undefined,
      invariants: undefined,
    };
    this.cleanup = () => Promise.resolve();
    this.interrupt = () => undefined;
  }

  async run() {
    const { broker, id, options, outDir, traceSink, catalogFile } = this;
    const label = this.label;
    const results = this.results;
    const isKafka = broker === 'kafka';
    // testkit reads BROKER for the services' environment (Cluster, seed), its
    // transport (quiet, invariants, dead letters) and ensureBroker.
    process.env.BROKER = broker;
    const startedAt = Date.now();
    const deadline = startedAt + options.budget * 1000;
    const prefix = `bench-${id}.`;
    const databaseSuffix = this.several ? `_bench_${id}_${broker}` : `_bench_${id}`;
    const serverUrl = databaseServerUrl();
    const floorDatabase = `orderflow_floor_bench_${id}`;
    const kafkaBrokerList = kafkaBrokers()
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    const address = brokerAddress(broker);
    const brokerSpot = `${address.host}:${address.port}`;

    const secret = randomBytes(32).toString('hex');
    const tracingEnv = traceSink
      ? {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url,
          OTEL_TRACES_SAMPLER: 'parentbased_always_on',
        }
      : undefined;
    const traceBefore = traceSink ? { ...traceSink.stats } : undefined;
    const cluster = new Cluster({
      topicPrefix: prefix,
      databaseSuffix,
      basePort: 3200,
      jwtSecret: secret,
      logDir: join(outDir, 'logs'),
      ...(tracingEnv
        ? { extraEnv: { orders: tracingEnv, payment: tracingEnv, inventory: tracingEnv, shipping: tracingEnv } }
        : {}),
    });
    // Kafka: the bench reads offsets itself (the floor copies them); other brokers: lag and clean-up through the transport.
    const kafka = isKafka
      ? new Kafka({ clientId: 'orderflow-bench', brokers: kafkaBrokerList, logLevel: logLevel.ERROR })
      : undefined;
    const admin = kafka?.admin();
    const transport = isKafka ? undefined : testTransport(prefix, 'orderflow-bench');
    const stats = new CountingClient(`${serverUrl}/postgres`);
    const events = new OrderEvents(`${serverUrl}/${cluster.databaseOf('orders')}`);
    const children = [];
    let floorRig;

    // ── cleanup, once, also on Ctrl-C ─────────────────────────────────────────
    let cleaning;
    const cleanup = () =>
      (cleaning ??= (async () => {
        const problems = [];
        const attempt = async (what, fn) => {
          try {
            await fn();
          } catch (error) {
            problems.push(`${what}: ${error.message}`);
          }
        };
        await attempt('stopping the floor', async () => floorRig?.stop());
        await attempt('stopping the load generator', async () => Promise.all(children.map((c) => c.stop())));
        await attempt('stopping the services', () => cluster.stop());
        await events.end();
        await attempt('dropping the databases', () => cluster.dropDatabases());
        if (floorRig) {
          await attempt('dropping the floor database', async () => {
            await stats.query(`DROP DATABASE IF EXISTS "${floorDatabase}" WITH (FORCE)`);
          });
        }
        await stats.end();
        if (isKafka) {
          await attempt('deleting topics and groups', async () => {
            const cleaner = kafka.admin();
            await cleaner.connect();
            try {
              const { groups } = await cleaner.listGroups();
              const ours = groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
              // Members that just left may still be listed for a moment.
              for (let i = 0; i < 5 && ours.length > 0; i++) {
                const res = await cleaner.deleteGroups(ours).catch((error) => error.groups ?? []);
                const left = res
                  .filter((r) => r.errorCode && r.errorCode !== 0 && r.error?.type !== 'GROUP_ID_NOT_FOUND')
                  .map((r) => r.groupId);
                ours.splice(0, ours.length, ...left);
                if (ours.length > 0) await sleep(1_000);
              }
              const topics = (await cleaner.listTopics()).filter((t) => t.startsWith(prefix));
              if (topics.length > 0) await cleaner.deleteTopics({ topics });
              if (ours.length > 0) problems.push(`consumer groups not deleted: ${ours.join(', ')}`);
            } finally {
              await cleaner.disconnect();
            }
          });
          await admin.disconnect().catch(() => undefined);
        } else {
          await attempt(`deleting the ${label} queues and exchanges`, () => transport.tearDown());
          await transport.close().catch(() => undefined);
        }
        out(
          problems.length
            ? `cleanup: ${problems.join('; ')}`
            : `cleaned up: ${isKafka ? 'topics and groups' : 'queues'} ${prefix}* on ${label}, databases *${databaseSuffix} removed`,
        );
      })());
    this.cleanup = cleanup;

    Object.assign(results.machine, { broker, brokerAddress: brokerSpot, ...(isKafka ? { kafkaBrokers: kafkaBrokerList } : {}) });
    const svgFile = join(outDir, 'plot.svg');
    const jsonFile = join(outDir, 'results.json');
    let written = false;
    const writeResults = () => {
      writeJson(jsonFile, results);
      written = true;
    };
    this.interrupt = (reason) => {
      results.error = reason;
      if (!written) {
        writeResults();
        out(`partial results: ${jsonFile}`);
      }
    };

    let exitCode = 0;
    try {
      // ── start ───────────────────────────────────────────────────────────────
      out(
        `bench ${id} on ${label} (${brokerSpot}): services on ports 3200-3203, topics ${prefix}*, databases *${databaseSuffix}; results in ${relative(REPO_ROOT, outDir)}`,
      );
      const busy = [];
      for (const s of SERVICES) if (await portAnswers(cluster.services[s].port)) busy.push(cluster.services[s].port);
      if (busy.length)
        throw new Error(
          `port(s) ${busy.join(', ')} already answer: is another bench running? (it would share the machine and spoil both)`,
        );
      await ensureBrokerAnswers(broker, address);
      await cluster.start();
      // A service that could not listen exits; another process answering on its port would fool the readiness check.
      const dead = SERVICES.filter((s) => !cluster.services[s].running);
      if (dead.length) throw new Error(`${dead.join(', ')} exited during start-up; see ${join(outDir, 'logs')}`);
      out(`four services ready on ${label} after ${elapsed(startedAt)}; seeding the bench catalog`);
      await cluster.seed(catalogFile);
      const tokens = await Promise.all(
        Array.from({ length: CUSTOMERS }, (_, i) => signDevToken(`bench-customer-${i}`, secret, 3 * 3600)),
      );
      const storefront = new StorefrontClient(cluster.url('orders'), tokens[0], 5_000);
      for (let i = 0; ; i++) {
        const products = await storefront.products().catch(() => undefined);
        if (products?.status === 200 && SKUS.every((sku) => products.body.some((p) => p.sku === sku && p.available > 0))) break;
        if (i > 300) throw new Error('the storefront did not list the bench catalog within 60 s of seeding');
        await sleep(200);
      }
      if (admin) await admin.connect();
      await stats.connect();
      await events.connect();
      const [{ pid: backend }] = await stats.query('SELECT pg_backend_pid() AS pid');
      const postmaster = postmasterOf(backend);
      let brokerPid = findBrokerPid(broker, address.port, REPO_ROOT);
      Object.assign(results.machine, { postmasterPid: postmaster, brokerPid });
      if (!postmaster) out('note: PostgreSQL does not run on this machine (or /proc is not readable): its CPU is n/a');
      if (!brokerPid)
        out(`note: no ${label} server process found serving ${brokerSpot} on this machine: its CPU and memory are n/a`);
      const servicePids = () => Object.fromEntries(SERVICES.map((s) => [s, cluster.services[s].pid]));
      const databases = SERVICES.map((s) => cluster.databaseOf(s));
      const progress = progressPrinter(this.several ? `[${label}] ` : '');
      const loadgen = new Child(join(__dirname, 'bench/loadgen.cjs'), [], {
        name: 'load generator',
        onProgress: (p) =>
          progress(
            `sent ${p.sent}/${p.total}, accepted ${p.accepted}, refused ${p.refused}, in flight ${p.inFlight}${p.queued ? `, queued for a socket ${p.queued}` : ''}`,
          ),
      });
      children.push(loadgen);
      await loadgen.ready;
      let nextOrder = 0;
      let lastLoadEndedAt = Date.now();
      const allAccepted = [];

      // ── warm-up ─────────────────────────────────────────────────────────────
      // A new Node process compiles its hot code during its first minute (TurboFan took
      // up to half a core, in orders): measured as part of the first rates, that start-up
      // cost made them look slower than the same rate a minute later. It is shown here,
      // on its own, and the sweep measures processes that are warm.
      if (options.warmupSeconds > 0) {
        out(
          `\n── ${label}: warm-up at ${options.warmupRate} orders/s for ${options.warmupSeconds} s, not in the table (${elapsed(startedAt)} into its run)`,
        );
        const step = await systemStep({
          rate: options.warmupRate,
          seconds: options.warmupSeconds,
          firstNumber: nextOrder,
          drainTimeoutMs: options.drainTimeout * 1000,
        });
        nextOrder += step.offered;
        results.warmup = step;
        printStep(step, SERVICES, label);
      }

      // ── idle ────────────────────────────────────────────────────────────────
      if (options.idleSeconds > 0) {
        out(
          `\n── idle CPU of the services over ${options.idleSeconds} s (after start-up, seeding${options.warmupSeconds > 0 ? ' and the warm-up' : ''}; before the sweep)`,
        );
        const a = cpuSnapshot({ pids: servicePids, postmaster, broker: brokerPid });
        // Commits while idle are read over the second half only: the seeding's statistics may
        // still be flushed during the first (an idle backend holds them back up to 10 s).
        await sleep((options.idleSeconds * 1000) / 2);
        const pgHalf = await pgCounters(stats, databases);
        const halfAt = Date.now();
        await sleep((options.idleSeconds * 1000) / 2);
        const pgIdle = diffCounters(pgHalf, await pgCounters(stats, databases));
        const d = cpuDelta(a, cpuSnapshot({ pids: servicePids, postmaster, broker: brokerPid }));
        const idleSeconds = (Date.now() - halfAt) / 1000;
        const pct = (ms) => (ms === undefined ? undefined : (ms / d.wallMs) * 100);
        const perService = Object.fromEntries(SERVICES.map((s) => [s, pct(d.ms[s])]));
        const total = SERVICES.reduce((n, s) => n + (perService[s] ?? 0), 0);
        results.idle = {
          seconds: d.wallMs / 1000,
          percentOfOneCore: { ...perService, total },
          postgres: pct(d.ms.postgres),
          broker: pct(d.ms.broker),
          machine: pct(d.machine),
          brokerRssMb: rssMb(brokerPid),
          pgCommitsPerSec: pgIdle.commits / idleSeconds,
          pgRowsPerSec: (pgIdle.inserted + pgIdle.updated + pgIdle.deleted) / idleSeconds,
        };
        out(`   services ${fmt(total, 2)} % of one core: ${SERVICES.map((s) => `${s} ${fmt(perService[s], 2)} %`).join(', ')}`);
        out(
          `   (shared, for context: PostgreSQL ${fmt(results.idle.postgres, 2)} %, ${label} ${fmt(results.idle.broker, 2)} % (RSS ${fmt(results.idle.brokerRssMb, 0)} MB), whole machine ${fmt(results.idle.machine, 1)} % of one core)`,
        );
        out(
          `   PostgreSQL commits while idle: ${fmt(results.idle.pgCommitsPerSec, 1)}/s, rows written ${fmt(results.idle.pgRowsPerSec, 1)}/s`,
        );
      }

      // ── system sweep ────────────────────────────────────────────────────────
      const floorReserveS =
        isKafka && options.floor
          ? Math.min(options.floorRates.length, 3) * (options.floorSeconds + 8) +
            (options.floorWarmupSeconds > 0 ? options.floorWarmupSeconds + 8 : 0) +
            20
          : 0;
      const sweepDeadline = deadline - (floorReserveS + QUIET_RESERVE_S + CLEANUP_RESERVE_S) * 1000;

      // What the broker holds: Kafka's end offsets and committed offsets (the floor copies them), else the transport's lag.
      const brokerCounts = async () =>
        isKafka
          ? {
              ends: await topicEnds(admin, prefix, (t) => !t.startsWith('floor.')),
              offsets: await groupOffsets(admin, prefix, (g) => !g.startsWith('floor.')),
            }
          : { lag: (await transport.lag(ALL_TOPICS)).reduce((n, l) => n + l.lag, 0) };
      const sweepBefore = {
        pg: await pgCounters(stats, databases),
        queries: events.db.queries,
        ...(await brokerCounts()),
      };
      let stopReason;
      let acceptedTotal = 0;
      for (const rate of options.rates) {
        if (stopReason) {
          results.system.push({ rate, skipped: stopReason });
          continue;
        }
        const left = (sweepDeadline - Date.now()) / 1000;
        if (left < options.seconds + 5) {
          results.system.push({ rate, skipped: 'time budget' });
          continue;
        }
        out(`\n── ${label}: system at ${rate} orders/s for ${options.seconds} s (${elapsed(startedAt)} into its run)`);
        // Never give up before the 10 s the verdict needs; otherwise as long as the budget allows.
        const drainTimeoutMs = Math.max(
          10_000,
          Math.min(options.drainTimeout * 1000, sweepDeadline - Date.now() - options.seconds * 1000),
        );
        const step = await systemStep({ rate, firstNumber: nextOrder, drainTimeoutMs });
        nextOrder += step.offered;
        acceptedTotal += step.accepted;
        results.system.push(step);
        printStep(step, SERVICES, label);
        if (shouldStop(results.system.filter((s) => !s.skipped))) stopReason = 'two consecutive rates not sustained';
      }

      async function systemStep({ rate, seconds = options.seconds, firstNumber, drainTimeoutMs }) {
        const pgBefore = await pgCounters(stats, databases);
        const queriesBefore = events.db.queries;
        const startPos = await events.maxPosition();
        const scrapedBefore = await Promise.all(SERVICES.map((s) => scrapeServiceMetrics(cluster.url(s))));
        // A shared broker may have been restarted by someone else's test since the last step.
        brokerPid = findBrokerPid(broker, address.port, REPO_ROOT) ?? brokerPid;
        const cpuBefore = cpuSnapshot({
          pids: () => ({ ...servicePids(), loadgen: loadgen.pid }),
          postmaster,
          broker: brokerPid,
        });
        const r = await loadgen.request('run', {
          url: cluster.url('orders'),
          tokens,
          rate,
          seconds,
          firstNumber,
          sockets: options.sockets,
          timeoutMs: HTTP_TIMEOUT_MS,
        });
        endProgress();
        allAccepted.push(...r.accepted);
        // Drain: until every accepted order of this step is terminal, or give up.
        const drainDeadline = r.lastSendAt + drainTimeoutMs;
        let pending = r.accepted.length;
        for (;;) {
          await events.pollTerminal(startPos);
          pending = r.accepted.reduce((n, id) => n + (events.terminal.has(id) ? 0 : 1), 0);
          if (pending === 0 || Date.now() >= drainDeadline) break;
          progress(
            `draining: ${pending} of ${r.accepted.length} accepted orders not terminal, ${((Date.now() - r.lastSendAt) / 1000).toFixed(1)} s after the last send`,
          );
          await sleep(250);
        }
        endProgress();
        lastLoadEndedAt = Date.now();
        const cpuAfter = cpuSnapshot({ pids: () => ({ ...servicePids(), loadgen: loadgen.pid }), postmaster, broker: brokerPid });
        const { placed, hops } = await events.stepEvents(startPos);
        await sleep(1_500); // PostgreSQL flushes a backend's statistics at most once a second
        const pgAfter = await pgCounters(stats, databases);
        const ownQueries = events.db.queries - queriesBefore;
        const scrapedAfter = await Promise.all(SERVICES.map((s) => scrapeServiceMetrics(cluster.url(s))));
        const rss = Object.fromEntries(SERVICES.map((s) => [s, rssMb(cluster.services[s].pid)]));
        const brokerRss = rssMb(brokerPid);

        const latencies = [];
        let lastTerminal = 0;
        let completed = 0;
        let cancelled = 0;
        for (const orderId of r.accepted) {
          const t = events.terminal.get(orderId);
          const p = placed.get(orderId);
          if (!t) continue;
          if (t.type === 'OrderCompleted') completed++;
          else cancelled++;
          lastTerminal = Math.max(lastTerminal, t.time);
          if (p !== undefined) latencies.push(t.time - p);
        }
        pending = r.accepted.length - completed - cancelled;
        const accepted = r.accepted.length;
        const sendSeconds = (r.lastSendAt - r.firstSendAt) / 1000 + 1 / rate;
        const latency = latencySummary(latencies);
        const drainMs = pending === 0 && accepted > 0 ? Math.max(0, lastTerminal - r.lastSendAt) : undefined;
        const verdict = sustainedVerdict({ offered: r.sent, accepted, pending, drainMs, p99: latency.p99 });
        const cpu = cpuDelta(cpuBefore, cpuAfter);
        const split = Object.fromEntries([...SERVICES, 'postgres', 'broker'].map((k) => [k, cpu.ms[k]]));
        const total = Object.values(split).reduce((n, v) => n + (v ?? 0), 0);
        const pg = diffCounters(pgBefore, pgAfter);
        const requests = requestDelta(
          scrapedBefore.map((m) => m.requests),
          scrapedAfter.map((m) => m.requests),
        );
        return {
          rate,
          seconds,
          offered: r.sent,
          accepted,
          statusCounts: r.statusCounts,
          offeredPerSec: r.sent / sendSeconds,
          acceptedPerSec: accepted / sendSeconds,
          completedPerSec: lastTerminal > 0 ? (completed + cancelled) / ((lastTerminal - r.firstSendAt) / 1000) : 0,
          completed,
          cancelled,
          terminal: completed + cancelled,
          pending,
          gaveUp: pending > 0,
          drainTimeoutMs,
          drainMs,
          latency,
          hops,
          answerMs: r.answerMs,
          lateMs: r.lateMs,
          maxQueued: r.maxQueued,
          maxInFlight: r.maxInFlight,
          cpu: {
            wallMs: cpu.wallMs,
            perOrder: {
              ...Object.fromEntries(Object.entries(split).map(([k, v]) => [k, perOrder(v, accepted)])),
              total: perOrder(total, accepted),
            },
            loadgenPerOrder: perOrder(cpu.ms.loadgen, accepted),
            benchPerOrder: perOrder(cpu.bench, accepted),
            otherMsPerSec: ((cpu.machine - total - (cpu.ms.loadgen ?? 0) - cpu.bench) / cpu.wallMs) * 1000,
          },
          pg: {
            commitsPerOrder: perOrder(pg.commits - ownQueries, accepted),
            rowsPerOrder: perOrder(pg.inserted + pg.updated + pg.deleted, accepted),
          },
          // Requests the services made to the broker (all clients), per order; servicesReporting of 4 exported them.
          requests:
            requests && accepted > 0
              ? { ...requestsPerOrder(requests.byApi, accepted), servicesReporting: requests.services }
              : undefined,
          consumerBusy: consumerBusy(SERVICES, scrapedBefore, scrapedAfter, cpu.wallMs),
          loopDelayMs: loopDelayOf(SERVICES, scrapedAfter),
          brokerPid,
          brokerRssMb: brokerRss,
          rssMb: rss,
          sustained: verdict.sustained,
          reasons: verdict.reasons,
        };
      }

      // ── quiet, derivation, invariants ───────────────────────────────────────
      out(
        `\n── waiting until every accepted order is terminal and every consumer group caught up (${elapsed(startedAt)} into the run)`,
      );
      const quietBoundMs = Math.max(120_000, deadline - Date.now() - (floorReserveS + CLEANUP_RESERVE_S) * 1000);
      const quiet = await waitForCaughtUp(quietBoundMs);
      async function waitForCaughtUp(boundMs) {
        const until = Date.now() + boundMs;
        let streak = 0;
        let state;
        while (Date.now() < until) {
          await events.pollTerminal(0);
          const pending = allAccepted.reduce((n, id) => n + (events.terminal.has(id) ? 0 : 1), 0);
          const counts = await brokerCounts();
          const lag = isKafka ? lagOf(counts.ends, counts.offsets) : counts.lag;
          state = { pending, lag };
          // Twice in a row: a handler that just committed may have published more.
          streak = pending === 0 && lag === 0 ? streak + 1 : 0;
          if (streak >= 2) return { ok: true, ...state };
          progress(`${pending} orders not terminal, consumer lag ${lag} messages`);
          await sleep(1_000);
        }
        endProgress();
        return { ok: false, ...state };
      }
      endProgress();
      if (!quiet.ok)
        out(
          `   not caught up after ${(quietBoundMs / 1000).toFixed(0)} s: ${quiet.pending} orders not terminal, lag ${quiet.lag}; the derived floor work undercounts`,
        );
      // A backend that went idle may hold its statistics back for up to 10 s (PostgreSQL ≥ 15),
      // and the services' connections are not ours to flush: let that pass once, for the sweep's totals.
      const settleMs = Math.max(1_500, STATS_IDLE_FLUSH_MS - (Date.now() - lastLoadEndedAt));
      await sleep(settleMs);
      const sweepAfter = {
        pg: await pgCounters(stats, databases),
        queries: events.db.queries,
        ...(await brokerCounts()),
      };

      if (traceSink) {
        // Proof that tracing was on: what the services exported during this broker's sweep.
        const requests = traceSink.stats.requests - traceBefore.requests;
        const bytes = traceSink.stats.bytes - traceBefore.bytes;
        results.tracing = { exportRequests: requests, exportedBytes: bytes };
        out(`tracing: the services sent ${requests} span exports (${fmt(bytes / 1e6, 1)} MB) to the sink`);
      }
      out(`\n── invariants on ${label} (testkit checkInvariants, dead letters included)`);
      try {
        await waitForQuiet(cluster, Math.max(30_000, deadline - Date.now() - (floorReserveS + CLEANUP_RESERVE_S) * 1000));
        const violations = await checkInvariants(cluster);
        results.invariants = { ok: violations.length === 0, violations };
      } catch (error) {
        results.invariants = { ok: false, violations: [`could not check: ${error.message}`] };
      }
      out(
        results.invariants.ok
          ? '   all hold'
          : `   VIOLATED (${results.invariants.violations.length}): ${results.invariants.violations.slice(0, 8).join('; ')}`,
      );
      if (!results.invariants.ok) exitCode = 1;

      // The message shape the floor copies: average event data (the Kafka value) and metadata (the headers).
      const shape = isKafka && options.floor ? await messageShape(cluster, startedAt) : undefined;
      await cluster.stop();
      await events.end();

      function idleCommitsDuring(ms) {
        return Math.round((results.idle?.pgCommitsPerSec ?? 0) * (ms / 1000));
      }

      // ── floor ───────────────────────────────────────────────────────────────
      if (isKafka && options.floor && acceptedTotal > 0) {
        const pg = diffCounters(sweepBefore.pg, sweepAfter.pg);
        const measured = {
          orders: acceptedTotal,
          producedByTopic: Object.fromEntries(
            Object.keys(sweepAfter.ends).map((t) => [t, sweepAfter.ends[t] - (sweepBefore.ends[t] ?? 0)]),
          ),
          consumedByGroup: Object.fromEntries(
            Object.entries(sweepAfter.offsets).map(([g, byTopic]) => [
              g,
              Object.fromEntries(Object.keys(byTopic).map((t) => [t, byTopic[t] - (sweepBefore.offsets[g]?.[t] ?? 0)])),
            ]),
          ),
          rows: { inserted: pg.inserted, updated: pg.updated, deleted: pg.deleted },
          // The settle wait above is idle time: its background commits (pollers, health checks)
          // are no order's work, so they come off at the rate measured while idle.
          commits: pg.commits - (sweepAfter.queries - sweepBefore.queries) - idleCommitsDuring(settleMs),
          idleCommitsSubtracted: idleCommitsDuring(settleMs),
          ...shape,
        };
        const work = deriveFloorWork(measured);
        results.floor = { derivedFrom: measured, work, steps: [] };
        out(`\n── floor: kafkajs + pg only, doing per order what the system did over its sweep (${acceptedTotal} orders)`);
        out(
          `   produce ${fmt(work.perOrder.produced, 2)} messages (${Object.entries(work.producedPerOrder)
            .map(([t, p]) => `${t} ${fmt(p, 2)}`)
            .join(', ')}), value ~${work.valueBytes} B + ${work.headerCount} headers ~${work.headerBytes} B`,
        );
        out(
          `   consume ${fmt(work.perOrder.consumed, 2)} (system consumed ${fmt(work.measuredConsumedPerOrder, 2)}) with ${work.groups.length} groups: ${work.groups.map((g) => `${g.name} ← ${g.topics.join('+')}`).join('; ')}`,
        );
        out(
          `   write ${fmt(work.perOrder.inserted, 2)} inserted + ${fmt(work.perOrder.updated, 2)} updated + ${fmt(work.perOrder.deleted, 2)} deleted rows in ${fmt(work.perOrder.transactions, 2)} transactions (${fmt(work.perDelivery.transactions, 3)} per message consumed; ${measured.idleCommitsSubtracted} idle commits of the final settle not counted)`,
        );
        floorRig = new FloorRig({
          work,
          admin,
          brokers: kafkaBrokerList,
          prefix,
          serverUrl,
          database: floorDatabase,
          stats,
          postmaster,
          brokerPid,
          onProgress: progress,
        });
        await floorRig.setup();
        let floorStop;
        const floorDeadline = deadline - CLEANUP_RESERVE_S * 1000;
        if (options.floorWarmupSeconds > 0) {
          out(
            `\n── floor warm-up at ${options.warmupRate} orders/s for ${options.floorWarmupSeconds} s, not in the table (${elapsed(startedAt)} into the run)`,
          );
          const step = await floorRig.step(options.warmupRate, options.floorWarmupSeconds, options.drainTimeout * 1000);
          endProgress();
          results.floor.warmup = step;
          printStep(step, ['producer', 'consumers'], label);
        }
        for (const rate of options.floorRates) {
          if (floorStop) {
            results.floor.steps.push({ rate, skipped: floorStop });
            continue;
          }
          if ((floorDeadline - Date.now()) / 1000 < options.floorSeconds + 5) {
            results.floor.steps.push({ rate, skipped: 'time budget' });
            continue;
          }
          out(`\n── floor at ${rate} orders/s for ${options.floorSeconds} s (${elapsed(startedAt)} into the run)`);
          const drainTimeoutMs = Math.max(
            10_000,
            Math.min(options.drainTimeout * 1000, floorDeadline - Date.now() - options.floorSeconds * 1000),
          );
          const step = await floorRig.step(rate, options.floorSeconds, drainTimeoutMs);
          endProgress();
          results.floor.steps.push(step);
          printStep(step, ['producer', 'consumers'], label);
          out(
            `   did per order: ${fmt(step.producedPerOrder, 2)} messages produced, ${fmt(step.pg.rowsPerOrder, 2)} rows in ${fmt(step.pg.commitsPerOrder, 2)} commits (target ${fmt(work.perOrder.produced, 2)}, ${fmt(work.perOrder.inserted + work.perOrder.updated + work.perOrder.deleted, 2)}, ${fmt(work.perOrder.transactions, 2)})`,
          );
          if (shouldStop(results.floor.steps.filter((s) => !s.skipped))) floorStop = 'two consecutive rates not sustained';
        }
        await floorRig.stop();
      } else if (isKafka && options.floor) {
        out('\n── floor skipped: the system accepted no orders to derive its work from');
      } else if (options.floor && !this.several) {
        out(`\n── no floor on ${label}: the floor (kafkajs + pg) copies Kafka's work; run --broker kafka for it`);
      }

      // ── report ──────────────────────────────────────────────────────────────
      results.ratios = ratios(results.system, results.floor?.steps ?? []);
      out(
        `\n── system on ${label}: one row per offered rate (orders/s; latency placed→terminal from the orders service's event times)`,
      );
      out(table(results.system, { broker: label }));
      if (results.floor) {
        out(`\n── floor (kafkajs + pg, same Kafka and PostgreSQL work per order)`);
        out(table(results.floor.steps, { broker: label }));
      }
      out('');
      if (results.floor) printRatios(results.ratios);
      out(
        `invariants: ${results.invariants.ok ? 'all hold' : `VIOLATED — ${results.invariants.violations.slice(0, 3).join('; ')}`}`,
      );
      results.finishedAt = new Date().toISOString();
      results.durationSeconds = (Date.now() - startedAt) / 1000;
      writeFileSync(
        svgFile,
        renderSvg({
          title: `Orderflow bench ${results.startedAt} on ${label}${results.floor ? ' — system (solid) vs framework-free floor (dashed)' : ''}`,
          system: results.system,
          floor: results.floor?.steps,
        }),
      );
      writeResults();
      out(`plot:    ${svgFile}`);
      out(`results: ${jsonFile}`);
      out(`service logs: ${join(outDir, 'logs')}`);
    } catch (error) {
      // What was measured before the failure is still worth keeping.
      results.error = error.message;
      if (!written) {
        writeResults();
        out(`partial results: ${jsonFile}`);
      }
      throw error;
    } finally {
      await cleanup();
      out(`${label}: ${elapsed(startedAt)}`);
    }
    return exitCode;
  }
}

function portAnswers(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Makes sure the broker answers at its address: one already running (the shared
 * one, or the address variable's) is used as it is; otherwise testkit's
 * ensureBroker starts the project's own (infra/<broker>/…sh start), which it does
 * only when no address variable is set.
 */
async function ensureBrokerAnswers(broker, { host, port }) {
  if (await portAnswers(port, host)) return;
  // Set address variables name a broker that is not ours to start: wait for it (someone may be restarting it).
  out(`${brokerLabel(broker)} does not answer at ${host}:${port}: ${managesBroker() ? 'starting it' : 'waiting for it'}`);
  try {
    await ensureBroker();
  } catch (error) {
    throw new Error(`${brokerLabel(broker)} does not answer at ${host}:${port} and could not be started: ${error.message}`);
  }
  for (let i = 0; i < 60; i++) {
    if (await portAnswers(port, host)) return;
    await sleep(500);
  }
  throw new Error(`${brokerLabel(broker)} does not answer at ${host}:${port} (is its address variable right?)`);
}

/** Average size of the events written during the run: data ≈ the Kafka value, metadata ≈ the headers. */
async function messageShape(cluster, since) {
  let n = 0;
  let value = 0;
  let headers = 0;
  let keys = 0;
  for (const service of SERVICES) {
    const [row] = await cluster
      .query(
        service,
        `SELECT count(*)::int AS n, avg(octet_length(data::text)) AS value, avg(octet_length(metadata::text)) AS headers,
                avg((SELECT count(*) FROM jsonb_object_keys(metadata))) AS keys
           FROM events WHERE recorded_at >= to_timestamp($1)`,
        [since / 1000],
      )
      .catch(() => [undefined]);
    if (!row || !row.n) continue;
    n += row.n;
    value += row.n * Number(row.value);
    headers += row.n * Number(row.headers);
    keys += row.n * Number(row.keys);
  }
  return n
    ? { valueBytes: value / n, headerBytes: headers / n, headerCount: keys / n }
    : { valueBytes: 600, headerBytes: 400, headerCount: 10 };
}

function printStep(s, processes, brokerName) {
  const refused = Object.entries(s.statusCounts)
    .filter(([k]) => k !== '202')
    .map(([k, n]) => `${n}× ${k}`);
  out(
    `   offered ${fmt(s.offeredPerSec)}/s (${s.offered}), accepted ${fmt(s.acceptedPerSec)}/s (${s.accepted}), refused ${refused.length ? refused.join(', ') : 0}, completed ${fmt(s.completedPerSec)}/s${s.completed !== undefined ? ` (${s.completed} completed, ${s.cancelled} cancelled)` : ''}`,
  );
  const drain = s.gaveUp
    ? `gave up after ${(s.drainTimeoutMs / 1000).toFixed(0)} s with ${s.pending} not terminal`
    : `drained ${fmt(s.drainMs / 1000)} s after the last send`;
  // When the drain gave up, the percentiles cover only the orders that finished: the rest took longer.
  const of = s.pending > 0 ? ` (of the ${s.latency.count} terminal orders only)` : '';
  out(
    `   placed→terminal p50 ${fmt(s.latency.p50, 0)} ms, p90 ${fmt(s.latency.p90, 0)}, p99 ${fmt(s.latency.p99, 0)}, max ${fmt(s.latency.max, 0)}${of}; ${drain}`,
  );
  if (s.hops?.length)
    out(
      `   where the time goes, p50 ms from OrderPlaced to each event (made by its service / stored by orders): ${s.hops
        .map((h) => `${h.type} ${fmt(h.made.p50, 0)}/${fmt(h.stored.p50, 0)}`)
        .join(', ')}`,
    );
  if (s.lateMs?.p99 > 50)
    out(
      `   note: the generator sent late (p99 ${fmt(s.lateMs.p99, 0)} ms behind schedule): the offered rate was not quite offered`,
    );
  if (s.maxQueued > 0)
    out(`   note: up to ${s.maxQueued} requests waited for one of the ${s.maxInFlight} sockets (raise --sockets)`);
  out(`   CPU ms/order: ${cpuSplit(s.cpu.perOrder, [...processes, 'postgres', 'broker'], { broker: brokerName })}`);
  const apart = s.cpu.loadgenPerOrder !== undefined ? `load generator ${fmt(s.cpu.loadgenPerOrder, 2)}, ` : '';
  out(
    `      apart: ${apart}bench ${fmt(s.cpu.benchPerOrder, 2)} ms/order; other processes on the machine ≈${fmt(s.cpu.otherMsPerSec, 0)} ms/s`,
  );
  const q = s.requests;
  const requests = q
    ? `${fmt(q.produce, 2)} produce / ${fmt(q.ack, 2)} ack / ${fmt(q.total, 1)} in all (${q.top.map(([api, n]) => `${api} ${fmt(n, 2)}`).join(', ')})` +
      (q.servicesReporting !== undefined && q.servicesReporting < 4 ? `, ${q.servicesReporting} of 4 services report them` : '')
    : 'n/a';
  out(
    `   per order: ${fmt(s.pg.commitsPerOrder, 2)} PG commits, ${fmt(s.pg.rowsPerOrder, 2)} rows written; ${brokerName} requests ${requests}`,
  );
  if (s.consumerBusy) {
    const pct = (x) => fmt(x * 100, 0);
    out(
      `   consumers busy, share of the step (load/handle/write): ${Object.entries(s.consumerBusy)
        .map(([k, b]) => `${k} ${pct(b.busy)} % (${pct(b.load)}/${pct(b.handle)}/${pct(b.write)})`)
        .join(', ')}`,
    );
  }
  if (s.loopDelayMs) {
    out(
      `   event loop late over the step, mean/p99/max ms: ${Object.entries(s.loopDelayMs)
        .map(([k, d]) => `${k} ${fmt(d.meanMs, 1)}/${fmt(d.p99Ms, 0)}/${fmt(d.maxMs, 0)}`)
        .join(', ')}`,
    );
  }
  if (s.rssMb)
    out(
      `   RSS: ${Object.entries(s.rssMb)
        .map(([k, v]) => `${k} ${fmt(v, 0)} MB`)
        .join(', ')}; ${brokerName} ${fmt(s.brokerRssMb, 0)} MB`,
    );
  out(`   sustained: ${s.sustained ? 'yes' : `no (${s.reasons.join(', ')})`}`);
}

/** Our CPU per order and max sustained rate against the floor's. */
function ratios(system, floor) {
  const ran = (steps) => steps.filter((s) => !s.skipped);
  const floorRan = ran(floor);
  const byRate = [];
  for (const s of ran(system)) {
    const f = floorRan.find((x) => x.rate === s.rate);
    if (!f) continue;
    byRate.push({
      rate: s.rate,
      system: s.cpu.perOrder.total,
      floor: f.cpu.perOrder.total,
      ratio: s.cpu.perOrder.total / f.cpu.perOrder.total,
      bothSustained: s.sustained && f.sustained,
    });
  }
  // The headline compares at the highest rate both sustained, else the lowest both ran.
  const headline = [...byRate].reverse().find((r) => r.bothSustained) ?? byRate[0];
  return { cpuPerOrder: { headline, byRate }, maxSustained: compareCapacity(system, floor) };
}

function printRatios(r) {
  const h = r.cpuPerOrder.headline;
  if (h) {
    out(
      `CPU ms per order, system ÷ floor: ${fmt(h.system, 2)} ÷ ${fmt(h.floor, 2)} = ${fmt(h.ratio, 1)}× at ${h.rate} orders/s${h.bothSustained ? '' : ' (not sustained by both)'}`,
    );
    const others = r.cpuPerOrder.byRate.filter((x) => x !== h);
    if (others.length) out(`   other rates: ${others.map((x) => `${x.rate}/s ${fmt(x.ratio, 1)}×`).join(', ')}`);
  } else out('CPU ms per order, system ÷ floor: n/a (no rate ran in both sweeps)');
  const m = r.maxSustained;
  const side = (c) =>
    c.max !== undefined
      ? `${c.lowerBound ? '≥ ' : ''}${c.max} orders/s`
      : c.below !== undefined
        ? `none (< ${c.below} orders/s)`
        : 'not run';
  const ratio = m.relation ? `${m.relation === '=' ? '' : `${m.relation} `}${fmt(m.ratio, 3)}` : 'n/a';
  out(`max sustained rate: system ${side(m.system)}, floor ${side(m.floor)}; system ÷ floor ${ratio}`);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`bench failed: ${error.stack || error.message}\n`);
    process.exit(1);
  },
);
