import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { BrokerKind } from '@orderflow/messaging';
import { brokerUnderTest } from './broker';
import { REPO_ROOT } from './infrastructure';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PrivateBrokerOptions {
  /** Default: the kind under test (`BROKER`). */
  kind?: BrokerKind;
  /**
   * Cache root: the broker keeps its data, logs and pid under `<cacheDir>/<kind>`, as
   * the infra scripts do under ORDERFLOW_CACHE (`elasticmq` for SQS). Default
   * `.cache/<that folder>-private-<port>`.
   */
  cacheDir?: string;
  /**
   * Port of a TcpProxy a test puts in front of the broker to cut one client's link
   * (see `proxied`). Kafka must know it at start: clients reconnect to the address the
   * broker advertises, so it gets a second listener advertised at the proxy's port.
   * AMQP and HTTP clients stay on the address they were given.
   */
  proxyPort?: number;
}

/**
 * A broker of a test's own, of the kind under test, on its own ports and data: for
 * a test that must take the broker down without touching the one other tests and
 * engineers share. `env` is what points services and the testkit at it.
 */
export interface PrivateBroker {
  readonly kind: BrokerKind;
  readonly env: Record<string, string>;
  /** With a `proxyPort`: where the proxy forwards to, and what points a service at the proxy. */
  readonly proxied: { targetPort: number; env: Record<string, string> } | undefined;
  /** Every TCP port it listens on (for checks that nothing else uses them). */
  readonly ports: number[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
  /**
   * SIGKILL to exactly this broker's process, as a machine or VM crash would: the pid is
   * the one its pid file names, refused unless that process is this broker (its command
   * line names the kind and cache; a RabbitMQ node's environment names the node and its
   * data). Resolves with the pid once it is gone.
   */
  kill(): Promise<number>;
}

/** The folder each kind keeps under its cache root, as its infra script names it. */
const FOLDERS: Record<BrokerKind, string> = { kafka: 'kafka', rabbitmq: 'rabbitmq', sqs: 'elasticmq' };

/** A private broker of the kind `BROKER` names (or `options.kind`), on `port` (Kafka also takes `port + 1` for its controller, and `port + 2` with a proxy). */
export function privateBroker(port: number, options: PrivateBrokerOptions = {}): PrivateBroker {
  const kind = options.kind ?? brokerUnderTest();
  const cacheDir = resolve(options.cacheDir ?? join(REPO_ROOT, '.cache', `${FOLDERS[kind]}-private-${port}`));
  switch (kind) {
    case 'kafka':
      return new PrivateKafka(port, cacheDir, options.proxyPort);
    case 'rabbitmq':
      return new PrivateRabbitMq(port, cacheDir, options.proxyPort);
    case 'sqs':
      return new PrivateElasticMq(port, cacheDir, options.proxyPort);
  }
}

/**
 * Links the jars the project's shared broker already fetched into a private cache
 * (`<cacheDir>/<folder>/libs`), so a private broker does not fetch them again; the
 * scripts' stamp inside `libs` still decides whether they are current.
 */
function shareJars(cacheDir: string, folder: string): void {
  const shared = join(resolve(process.env['ORDERFLOW_CACHE'] ?? join(REPO_ROOT, '.cache')), folder, 'libs');
  const own = join(cacheDir, folder, 'libs');
  if (shared === own || !existsSync(shared) || existsSync(own)) return;
  mkdirSync(join(cacheDir, folder), { recursive: true });
  symlinkSync(shared, own);
}

/**
 * The pid in `pidFile` if its process is alive and carries every mark: strings its
 * command line must contain, and `NAME=value` entries its environment must hold.
 */
function verifiedPid(pidFile: string, marks: { cmdline: string[]; environ?: string[] }, what: string): number {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    throw new Error(`${what} is not running: no pid file ${pidFile}`);
  }
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid in ${pidFile}`);
  let cmdline: string;
  let environ: string[];
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    throw new Error(`${what} is not running: pid ${pid} (from ${pidFile}) is gone`);
  }
  const missing = [...marks.cmdline.filter((mark) => !cmdline.includes(mark)), ...(marks.environ ?? []).filter((entry) => !environ.includes(entry))];
  if (missing.length > 0) throw new Error(`pid ${pid} (from ${pidFile}) is not ${what}: it lacks ${missing.join(', ')}`);
  return pid;
}

async function killAndWait(pid: number, what: string): Promise<number> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
      // A zombie (its parent has not reaped it yet) is as dead as a broker gets.
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z') return pid;
    } catch {
      return pid;
    }
    await sleep(100);
  }
  throw new Error(`${what} (pid ${pid}) survived SIGKILL`);
}

/** A single-node Kafka with infra/kafka/kafka.sh; its jars are shared with the project's broker, or fetched into its cache once. */
class PrivateKafka implements PrivateBroker {
  readonly kind = 'kafka';
  private readonly controllerPort: number;
  private readonly proxiedPort: number | undefined;

  constructor(
    private readonly port: number,
    private readonly cacheDir: string,
    private readonly proxyPort: number | undefined,
  ) {
    this.controllerPort = port + 1;
    this.proxiedPort = proxyPort === undefined ? undefined : port + 2;
  }

  get env(): Record<string, string> {
    return { KAFKA_BROKERS: `127.0.0.1:${this.port}` };
  }

  get proxied(): PrivateBroker['proxied'] {
    if (this.proxyPort === undefined || this.proxiedPort === undefined) return undefined;
    return { targetPort: this.proxiedPort, env: { KAFKA_BROKERS: `127.0.0.1:${this.proxyPort}` } };
  }

  get ports(): number[] {
    return [this.port, this.controllerPort, ...(this.proxiedPort === undefined ? [] : [this.proxiedPort])];
  }

  start = async () => {
    shareJars(this.cacheDir, 'kafka');
    await this.run('start');
  };
  stop = () => this.run('stop');

  async remove(): Promise<void> {
    await this.run('stop');
    await this.run('reset');
  }

  async kill(): Promise<number> {
    const pid = verifiedPid(join(this.cacheDir, 'kafka/run/kafka.pid'), { cmdline: ['kafka.Kafka', join(this.cacheDir, 'kafka')] }, `the Kafka broker of ${this.cacheDir}`);
    return killAndWait(pid, 'Kafka broker');
  }

  private async run(command: string): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ORDERFLOW_CACHE: this.cacheDir,
      KAFKA_PORT: String(this.port),
      KAFKA_CONTROLLER_PORT: String(this.controllerPort),
      KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
    };
    // kafka.sh does nothing for an external cluster; this broker is ours.
    delete env['KAFKA_BROKERS'];
    delete env['KAFKA_PROXIED_PORT'];
    delete env['KAFKA_PROXIED_ADVERTISED_PORT'];
    if (this.proxyPort !== undefined && this.proxiedPort !== undefined) {
      env['KAFKA_PROXIED_PORT'] = String(this.proxiedPort);
      env['KAFKA_PROXIED_ADVERTISED_PORT'] = String(this.proxyPort);
    }
    await run('bash', [join(REPO_ROOT, 'infra/kafka/kafka.sh'), command], { env, maxBuffer: 10 * 1024 * 1024 });
  }
}

/**
 * A second RabbitMQ node beside the machine's own, with the machine's RabbitMQ
 * installation: its own node name, AMQP and distribution ports, configuration
 * (listening on `port` only), no plugins, and data and logs in its cache, owned
 * by the `rabbitmq` user the server runs as.
 */
class PrivateRabbitMq implements PrivateBroker {
  readonly kind = 'rabbitmq';
  private readonly dir: string;
  private readonly node: string;
  private readonly distPort: number;

  constructor(
    private readonly port: number,
    cacheDir: string,
    private readonly proxyPort: number | undefined,
  ) {
    this.dir = join(cacheDir, 'rabbitmq');
    this.node = `orderflow-${port}@localhost`;
    this.distPort = port + 20_000;
  }

  get env(): Record<string, string> {
    return { RABBITMQ_URL: `amqp://127.0.0.1:${this.port}` };
  }

  get proxied(): PrivateBroker['proxied'] {
    if (this.proxyPort === undefined) return undefined;
    return { targetPort: this.port, env: { RABBITMQ_URL: `amqp://127.0.0.1:${this.proxyPort}` } };
  }

  get ports(): number[] {
    return [this.port, this.distPort];
  }

  private get pidFile(): string {
    return join(this.dir, 'node.pid');
  }

  private get serverEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'data'),
      RABBITMQ_LOG_BASE: join(this.dir, 'logs'),
      RABBITMQ_PID_FILE: this.pidFile,
    };
  }

  async start(): Promise<void> {
    if (await this.answers()) return;
    for (const sub of ['data', 'logs']) mkdirSync(join(this.dir, sub), { recursive: true });
    // The machine's rabbitmq.conf names its own listener; this node's file replaces it.
    writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${this.port}\n`);
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    await this.ownedByRabbitMq();
    // It boots in about 6 s here. Once in a CI run it did not within 60 s, and the
    // suite's cleanup wiped its logs: what it logged is now part of the report, and
    // the node is started once more (what the suite tests is Orderflow, not this start).
    for (let attempt = 1; ; attempt++) {
      const { stdout, stderr } = await run('rabbitmq-server', ['-detached'], { env: this.serverEnv });
      if (await this.answersWithin(60_000)) return;
      const report = `RabbitMQ node ${this.node} did not start on 127.0.0.1:${this.port} within 60 s (attempt ${attempt} of 2)\n${`${stdout}${stderr}`.trim()}\n${await this.diagnosis()}`;
      if (attempt === 2) throw new Error(report);
      process.stderr.write(`${report}\nstopping it and starting it again\n`);
      await run('rabbitmqctl', ['-n', this.node, 'stop'], { env: this.serverEnv, timeout: 20_000 }).catch(() => undefined);
      await this.kill().catch(() => undefined);
    }
  }

  private async answersWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!(await this.answers())) {
      if (Date.now() > deadline) return false;
      await sleep(500);
    }
    return true;
  }

  /** The end of each of the node's log files, and the nodes epmd knows: why a start failed. */
  private async diagnosis(): Promise<string> {
    const logs = join(this.dir, 'logs');
    const files = existsSync(logs) ? readdirSync(logs) : [];
    // An erl_crash.dump is only named: its end is the atom table.
    const tails = files.filter((file) => file.endsWith('.log')).map((file) => `--- ${file} (last 30 lines)\n${readFileSync(join(logs, file), 'utf8').trimEnd().split('\n').slice(-30).join('\n')}`);
    const epmd = await run('epmd', ['-names'], { timeout: 5_000 }).then(
      ({ stdout }) => stdout.trim(),
      (error: unknown) => `epmd -names failed: ${(error as Error).message}`,
    );
    const dumps = files.filter((file) => !file.endsWith('.log')).map((file) => `--- also in ${logs}: ${file}`);
    return [...(tails.length ? tails : [`--- no log files in ${logs}`]), ...dumps, `--- epmd -names\n${epmd}`].join('\n');
  }

  async stop(): Promise<void> {
    await run('rabbitmqctl', ['-n', this.node, 'stop'], { env: this.serverEnv }).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (await this.answers()) {
      if (Date.now() > deadline) throw new Error(`RabbitMQ node ${this.node} did not stop within 30 s`);
      await sleep(300);
    }
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * The Erlang VM of this node. Every node's beam.smp has the same command line (the
   * node's name and directories reach it through the environment), so the environment
   * is what tells this node from the machine's own.
   */
  async kill(): Promise<number> {
    const env = this.serverEnv;
    const pid = verifiedPid(
      this.pidFile,
      {
        cmdline: ['beam.smp', 'rabbit boot'],
        environ: ['RABBITMQ_NODENAME', 'RABBITMQ_MNESIA_BASE', 'RABBITMQ_NODE_PORT'].map((name) => `${name}=${env[name]}`),
      },
      `the RabbitMQ node ${this.node}`,
    );
    return killAndWait(pid, `RabbitMQ node ${this.node}`);
  }

  /** The node is booted and its AMQP listener is up. */
  private async answers(): Promise<boolean> {
    try {
      await run('rabbitmqctl', ['-n', this.node, '-q', 'status'], { env: this.serverEnv, timeout: 10_000 });
      const { stdout } = await run('rabbitmq-diagnostics', ['-n', this.node, '-q', 'check_port_listener', String(this.port)], { env: this.serverEnv, timeout: 10_000 });
      return !/error/i.test(stdout);
    } catch {
      return false;
    }
  }

  /** rabbitmq-server drops to the `rabbitmq` user when started as root: its directories must be that user's. */
  private async ownedByRabbitMq(): Promise<void> {
    if (process.getuid?.() !== 0) return;
    const { stdout } = await run('id', ['-u', 'rabbitmq']).catch(() => ({ stdout: '' }));
    const { stdout: gid } = await run('id', ['-g', 'rabbitmq']).catch(() => ({ stdout: '' }));
    if (!stdout.trim()) return;
    for (const path of [this.dir, join(this.dir, 'data'), join(this.dir, 'logs'), join(this.dir, 'rabbitmq.conf'), join(this.dir, 'enabled_plugins')]) {
      chownSync(path, Number(stdout.trim()), Number(gid.trim()));
    }
  }
}

const TEST_VISIBILITY = { SQS_VISIBILITY_TIMEOUT_SECONDS: '10' };

/** An ElasticMQ server on its own port and data, with the project's script and a cache of its own (jars shared with the project's server). */
class PrivateElasticMq implements PrivateBroker {
  readonly kind = 'sqs';

  constructor(
    private readonly port: number,
    private readonly cacheDir: string,
    private readonly proxyPort: number | undefined,
  ) {}

  /**
   * Its services hide a received message for 10 s, not 30: a consumer killed or cut
   * off by a test holds its messages back for that long, and the tests wait it out.
   */
  get env(): Record<string, string> {
    return { SQS_ENDPOINT: `http://127.0.0.1:${this.port}`, ...TEST_VISIBILITY };
  }

  get proxied(): PrivateBroker['proxied'] {
    if (this.proxyPort === undefined) return undefined;
    // The SQS transport sends every request to its endpoint, not to the host in a queue URL.
    return { targetPort: this.port, env: { SQS_ENDPOINT: `http://127.0.0.1:${this.proxyPort}`, ...TEST_VISIBILITY } };
  }

  get ports(): number[] {
    return [this.port];
  }

  start = async () => {
    shareJars(this.cacheDir, 'elasticmq');
    await this.run('start');
  };
  stop = () => this.run('stop');

  /** Stops it and deletes its queues and messages (the jars stay for the next run). */
  remove = () => this.run('reset');

  async kill(): Promise<number> {
    const home = join(this.cacheDir, 'elasticmq');
    const pid = verifiedPid(join(home, 'run/elasticmq.pid'), { cmdline: ['org.elasticmq.server.Main', `-Dconfig.file=${join(home, 'config/elasticmq.conf')}`] }, `the ElasticMQ server of ${this.cacheDir}`);
    return killAndWait(pid, 'ElasticMQ server');
  }

  private async run(command: string): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, ORDERFLOW_CACHE: this.cacheDir, SQS_PORT: String(this.port) };
    // elasticmq.sh does nothing for an external endpoint; this server is ours.
    delete env['SQS_ENDPOINT'];
    delete env['ELASTICMQ_DATA_DIR'];
    await run('bash', [join(REPO_ROOT, 'infra/elasticmq/elasticmq.sh'), command], { env, maxBuffer: 10 * 1024 * 1024 });
  }
}
