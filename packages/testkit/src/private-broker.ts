import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokerUnderTest } from './broker';
import { REPO_ROOT } from './infrastructure';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A broker of a test's own, of the kind under test, on its own ports and data: for
 * a test that must take the broker down without touching the one other tests and
 * engineers share. `env` is what points services and the testkit at it.
 */
export interface PrivateBroker {
  readonly env: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  remove(): Promise<void>;
}

/** A private broker of the kind `BROKER` names, on `port` (Kafka also takes `port + 1` for its controller). */
export function privateBroker(port: number): PrivateBroker {
  switch (brokerUnderTest()) {
    case 'kafka':
      return new PrivateKafka(port, port + 1);
    case 'rabbitmq':
      return new PrivateRabbitMq(port);
    case 'sqs':
      return new PrivateElasticMq(port);
  }
}

const cacheOf = (name: string) => join(REPO_ROOT, '.cache', name);

/** A single-node Kafka; its jars are fetched into its cache once (from the local Maven repository when the shared broker fetched them already). */
class PrivateKafka implements PrivateBroker {
  constructor(
    private readonly port: number,
    private readonly controllerPort: number,
    private readonly cacheDir = cacheOf(`kafka-private-${port}`),
  ) {}

  get env(): Record<string, string> {
    return { KAFKA_BROKERS: `127.0.0.1:${this.port}` };
  }

  start = () => this.run('start');
  stop = () => this.run('stop');

  async remove(): Promise<void> {
    await this.run('stop');
    await this.run('reset');
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
  private readonly dir: string;
  private readonly node: string;

  constructor(private readonly port: number) {
    this.dir = cacheOf(`rabbitmq-private-${port}`);
    this.node = `orderflow-${port}@localhost`;
  }

  get env(): Record<string, string> {
    return { RABBITMQ_URL: `amqp://127.0.0.1:${this.port}` };
  }

  private get serverEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.port + 20_000),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'data'),
      RABBITMQ_LOG_BASE: join(this.dir, 'logs'),
      RABBITMQ_PID_FILE: join(this.dir, 'node.pid'),
    };
  }

  async start(): Promise<void> {
    if (await this.answers()) return;
    for (const sub of ['data', 'logs']) mkdirSync(join(this.dir, sub), { recursive: true });
    // The machine's rabbitmq.conf names its own listener; this node's file replaces it.
    writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${this.port}\n`);
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    await this.ownedByRabbitMq();
    await run('rabbitmq-server', ['-detached'], { env: this.serverEnv });
    const deadline = Date.now() + 60_000;
    while (!(await this.answers())) {
      if (Date.now() > deadline) throw new Error(`RabbitMQ node ${this.node} did not start on 127.0.0.1:${this.port} within 60 s (logs in ${join(this.dir, 'logs')})`);
      await sleep(500);
    }
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

/** An ElasticMQ server on its own port and data, with the project's script and a cache of its own (jars shared through the local Maven repository). */
class PrivateElasticMq implements PrivateBroker {
  private readonly dir: string;

  constructor(private readonly port: number) {
    this.dir = cacheOf(`elasticmq-private-${port}`);
  }

  get env(): Record<string, string> {
    return { SQS_ENDPOINT: `http://127.0.0.1:${this.port}` };
  }

  start = () => this.run('start');
  stop = () => this.run('stop');

  /** Stops it and deletes its queues and messages (the jars stay for the next run). */
  remove = () => this.run('reset');

  private async run(command: string): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, ORDERFLOW_CACHE: this.dir, SQS_PORT: String(this.port) };
    // elasticmq.sh does nothing for an external endpoint; this server is ours.
    delete env['SQS_ENDPOINT'];
    await run('bash', [join(REPO_ROOT, 'infra/elasticmq/elasticmq.sh'), command], { env, maxBuffer: 10 * 1024 * 1024 });
  }
}
