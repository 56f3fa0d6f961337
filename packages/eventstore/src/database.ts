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
  poolSize?: number;
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

/**
 * Creates the database if needed, connects, and runs pending migrations. Instances
 * starting together serialize on an advisory lock so each migration runs once.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  await ensureDatabase(options.url, options.database);
  const dataSource = new DataSource({
    type: 'postgres',
    url: databaseUrl(options.url, options.database),
    migrations: options.migrations,
    entities: options.entities ?? [],
    synchronize: false,
    migrationsRun: false,
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
  });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
  return dataSource;
}
