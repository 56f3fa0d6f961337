/**
 * Every knob of the chaos suite, read and validated here once. scripts/chaos.sh
 * sets the infrastructure ones (its own PostgreSQL cluster and broker) and picks
 * the short or full form; the rest are for a developer's hand.
 */
export interface ChaosSettings {
  mode: 'short' | 'full';
  /** Orders placed per second, open loop (on a schedule, whatever the answers). */
  rate: number;
  /** Steady load before the fault, and again after it ends. */
  loadSeconds: number;
  /** How long a killed process stays down, and how long a network cut lasts. */
  downSeconds: number;
  cutSeconds: number;
  /** Longest wait for every accepted order to be terminal once the load stops. */
  drainSeconds: number;
  /** Only these scenarios (ids), or every one; the short form runs a subset by default. */
  scenarios: string[] | undefined;
  /** `<version> <cluster>` of the Debian PostgreSQL cluster this suite may restart. */
  postgresCluster: { version: string; name: string };
  /** Environment for infra/kafka/kafka.sh to start and stop this suite's own broker. */
  kafkaEnv: Record<string, string>;
  kafkaPidFile: string;
  /** The broker's second listener, advertised at the Kafka proxy's port. */
  kafkaProxiedPort: number;
  kafkaProxyPort: number;
  postgresPort: number;
  postgresProxyPort: number;
  basePort: number;
}

/**
 * The short form (in `npm test`) meets every kind of fault once: one service killed
 * (inventory, whose handler writes several streams in one transaction), not each in turn.
 */
const SHORT_FORM = ['kill-inventory', 'postgres-restart', 'broker-kill', 'postgres-cut', 'kafka-cut', 'rebalance'];

const SHARED_POSTGRES_PORT = 5432;
const SHARED_KAFKA_PORT = 9092;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the chaos suite through \`npm run chaos\` (scripts/chaos.sh), which starts its own PostgreSQL and broker`,
    );
  return value;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function port(env: NodeJS.ProcessEnv, name: string): number {
  const value = Number(required(env, name));
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a TCP port`);
  return value;
}

export function chaosSettings(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const mode = env['CHAOS_MODE'] === 'full' ? 'full' : 'short';
  if (env['CHAOS_MODE'] && env['CHAOS_MODE'] !== 'full' && env['CHAOS_MODE'] !== 'short')
    throw new Error('CHAOS_MODE must be short or full');
  const defaults =
    mode === 'full'
      ? { rate: 20, loadSeconds: 10, downSeconds: 3, cutSeconds: 10, drainSeconds: 180 }
      : { rate: 12, loadSeconds: 3, downSeconds: 1, cutSeconds: 5, drainSeconds: 120 };
  const [version, name] = required(env, 'CHAOS_PG_CLUSTER').split(' ');
  if (!version || !name || name === 'main')
    throw new Error('CHAOS_PG_CLUSTER must be "<version> <cluster>" of a cluster other than main');
  const postgresPort = port(env, 'CHAOS_PG_PORT');
  const kafkaPort = port(env, 'CHAOS_KAFKA_PORT');
  // The suite restarts PostgreSQL and kills the broker: never those other work depends on.
  if (postgresPort === SHARED_POSTGRES_PORT || kafkaPort === SHARED_KAFKA_PORT) {
    throw new Error(
      `the chaos suite restarts its PostgreSQL and kills its broker: it refuses the shared ports ${SHARED_POSTGRES_PORT} / ${SHARED_KAFKA_PORT}`,
    );
  }
  const databaseUrl = required(env, 'DATABASE_URL');
  const brokers = required(env, 'KAFKA_BROKERS');
  if (!databaseUrl.includes(`:${postgresPort}`) || brokers !== `127.0.0.1:${kafkaPort}`) {
    throw new Error(
      `DATABASE_URL (${databaseUrl.replace(/\/\/[^@]*@/, '//…@')}) and KAFKA_BROKERS (${brokers}) must point at the suite's own PostgreSQL (:${postgresPort}) and broker (:${kafkaPort})`,
    );
  }
  const kafkaCache = required(env, 'CHAOS_KAFKA_CACHE');
  const kafkaProxiedPort = port(env, 'CHAOS_KAFKA_PROXIED_PORT');
  const kafkaProxyPort = port(env, 'CHAOS_KAFKA_PROXY_PORT');
  return {
    mode,
    rate: positive(env, 'CHAOS_RATE', defaults.rate),
    loadSeconds: positive(env, 'CHAOS_LOAD_SECONDS', defaults.loadSeconds),
    downSeconds: positive(env, 'CHAOS_DOWN_SECONDS', defaults.downSeconds),
    cutSeconds: positive(env, 'CHAOS_CUT_SECONDS', defaults.cutSeconds),
    drainSeconds: positive(env, 'CHAOS_DRAIN_SECONDS', defaults.drainSeconds),
    scenarios: env['CHAOS_SCENARIOS']
      ? env['CHAOS_SCENARIOS']
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : mode === 'short'
        ? SHORT_FORM
        : undefined,
    postgresCluster: { version, name },
    kafkaEnv: {
      ORDERFLOW_CACHE: kafkaCache,
      KAFKA_PORT: String(kafkaPort),
      KAFKA_CONTROLLER_PORT: String(port(env, 'CHAOS_KAFKA_CONTROLLER_PORT')),
      KAFKA_PROXIED_PORT: String(kafkaProxiedPort),
      KAFKA_PROXIED_ADVERTISED_PORT: String(kafkaProxyPort),
    },
    kafkaPidFile: `${kafkaCache}/kafka/run/kafka.pid`,
    kafkaProxiedPort,
    kafkaProxyPort,
    postgresPort,
    postgresProxyPort: port(env, 'CHAOS_PG_PROXY_PORT'),
    basePort: port(env, 'CHAOS_BASE_PORT'),
  };
}
