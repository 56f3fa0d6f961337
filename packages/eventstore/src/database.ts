import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, type MixedList, type EntitySchema } from 'typeorm';

export interface DatabaseOptions {
  /** Server URL without a database, e.g. `postgres://postgres@127.0.0.1:5432`. */
  url: string;
  database: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  /** Connections in this process's pool. */
  poolSize?: number;
  /** PostgreSQL cancels a statement running longer than this (`statement_timeout`); 0 = never. */
  statementTimeoutMs?: number;
  /** Waiting for a new connection, or for a free one from a full pool, fails after this. */
  connectTimeoutMs?: number;
  /** PostgreSQL ends a session left idle inside a transaction this long (`idle_in_transaction_session_timeout`); 0 = never. */
  idleInTransactionTimeoutMs?: number;
  /** TCP keepalive probes start after this much idle time, so a vanished server or network is noticed. */
  keepAliveInitialDelayMs?: number;
}

type PoolSettings = Required<Pick<DatabaseOptions, 'poolSize' | 'statementTimeoutMs' | 'connectTimeoutMs' | 'idleInTransactionTimeoutMs' | 'keepAliveInitialDelayMs'>>;

/** The one place pool defaults live; service-kit's config passes its own values, validated at boot. */
export const DATABASE_POOL_DEFAULTS: Readonly<PoolSettings> = {
  poolSize: 10,
  statementTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 60_000,
  keepAliveInitialDelayMs: 10_000,
};

function poolSettings(options: DatabaseOptions): PoolSettings {
  const settings: PoolSettings = { ...DATABASE_POOL_DEFAULTS };
  for (const name of Object.keys(settings) as (keyof PoolSettings)[]) {
    const value = options[name];
    if (value === undefined) continue;
    const least = name === 'poolSize' || name === 'connectTimeoutMs' ? 1 : 0;
    if (!Number.isInteger(value) || value < least) throw new RangeError(`openDatabase: ${name} must be an integer >= ${least} (got ${value})`);
    settings[name] = value;
  }
  return settings;
}

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const MIGRATION_LOCK = 7_361_000_001;

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the database if it does not exist; safe when several processes race to do it. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid database name "${database}"`);
  const client = new Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${database}"`);
      } catch (error) {
        // 42P04 duplicate_database / 23505: another instance created it a moment ago.
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Drops a database, closing its connections first; nothing happens if it does not exist. */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid database name "${database}"`);
  const client = new Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  dataSource: DataSource;
  /** Closes the connections and drops the database. */
  drop(): Promise<void>;
}

/**
 * A throwaway database `<namePrefix>_<random>` with the given migrations run, for
 * tests that need a real database of their own.
 */
export async function openScratchDatabase(options: Omit<DatabaseOptions, 'database'> & { namePrefix: string }): Promise<ScratchDatabase> {
  const { namePrefix, ...rest } = options;
  const database = `${namePrefix}_${randomBytes(4).toString('hex')}`;
  const dataSource = await openDatabase({ ...rest, database });
  return {
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await dropDatabase(options.url, database);
    },
  };
}

/**
 * Creates the database if needed, connects, and runs pending migrations. Instances
 * starting together serialize on an advisory lock so each migration runs once.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const pool = poolSettings(options);
  await ensureDatabase(options.url, options.database);
  const dataSource = new DataSource({
    type: 'postgres',
    url: databaseUrl(options.url, options.database),
    migrations: options.migrations,
    entities: options.entities ?? [],
    synchronize: false,
    migrationsRun: false,
    // Handed to pg's Pool and from there to each Client: the timeouts are session
    // settings sent at connect, so a stalled server or a forgotten transaction
    // cannot hold a connection (and a partition) for ever.
    extra: {
      max: pool.poolSize,
      connectionTimeoutMillis: pool.connectTimeoutMs,
      statement_timeout: pool.statementTimeoutMs,
      idle_in_transaction_session_timeout: pool.idleInTransactionTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: pool.keepAliveInitialDelayMs,
      // No JIT: it pays for long analytic queries, and these are short statements run
      // hundreds of times a second. On tables without fresh statistics (a new database,
      // or autovacuum off, as on the CI machines) their estimated cost passed
      // jit_above_cost and PostgreSQL compiled them again and again: 20 % of its CPU
      // went to LLVM at 300 orders/s.
      options: '-c jit=off',
    },
  });
  await dataSource.initialize();
  // The lock lives on a connection of its own, outside the pool, so a pool of one
  // connection is still enough to run the migrations it guards.
  const lock = new Client({ connectionString: databaseUrl(options.url, options.database), connectionTimeoutMillis: pool.connectTimeoutMs });
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  } finally {
    await lock.end().catch(() => undefined);
  }
  return dataSource;
}
