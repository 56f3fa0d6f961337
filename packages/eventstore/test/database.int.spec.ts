import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { DATABASE_POOL_DEFAULTS, DatabaseUnavailableError, EventStoreSchema1763700000000, eventStoreMigrations, TransientDatabaseError, databaseUrl, ensureDatabase, inTransaction, openDatabase } from '../src';
import { SERVER_URL, dropDatabase, randomSuffix } from './support';

const created: string[] = [];
const pools: DataSource[] = [];

afterAll(async () => {
  await Promise.all(pools.filter((p) => p.isInitialized).map((p) => p.destroy()));
  for (const name of created) await dropDatabase(name);
});

function newName(): string {
  const name = `orderflow_it_${randomSuffix()}`;
  created.push(name);
  return name;
}

async function open(database: string): Promise<DataSource> {
  const pool = await openDatabase({ url: SERVER_URL, database, migrations: eventStoreMigrations, poolSize: 2 });
  pools.push(pool);
  return pool;
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl(SERVER_URL, 'postgres') });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('openDatabase', () => {
  it('creates the database and the event store tables', async () => {
    const name = newName();

    const dataSource = await open(name);

    expect(await databaseExists(name)).toBe(true);
    const tables: { table_name: string }[] = await dataSource.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['events', 'inbox', 'outbox', 'outbox_parked']));
    const migrations: { name: string }[] = await dataSource.query('SELECT name FROM migrations');
    expect(migrations.map((m) => m.name)).toEqual(['EventStoreSchema1763700000000', 'OutboxParkedSchema1763800000000']);
  });

  it('runs each migration once when several instances start together', async () => {
    const name = newName();

    const instances = await Promise.all(Array.from({ length: 4 }, () => open(name)));

    const migrations: { name: string }[] = await instances[0]!.query('SELECT name FROM migrations');
    expect(migrations.map((m) => m.name)).toEqual(['EventStoreSchema1763700000000', 'OutboxParkedSchema1763800000000']);
  });

  it('reopens an existing database without migrating again or losing data', async () => {
    const name = newName();
    const first = await open(name);
    await first.query("INSERT INTO inbox (consumer, event_id) VALUES ('c', '00000000-0000-4000-8000-000000000001')");
    await first.destroy();

    const again = await open(name);

    expect(await again.query('SELECT consumer FROM inbox')).toEqual([{ consumer: 'c' }]);
    expect(await again.query('SELECT count(*)::int AS n FROM migrations')).toEqual([{ n: 2 }]);
  });
});

describe('openDatabase pool settings', () => {
  async function sessionSettings(dataSource: DataSource): Promise<Record<string, string>> {
    const rows: { name: string; setting: string }[] = await dataSource.query(
      "SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'idle_in_transaction_session_timeout', 'jit')",
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  }

  it('gives every session the default statement and idle-in-transaction timeouts, and no JIT', async () => {
    const dataSource = await open(newName());

    expect(await sessionSettings(dataSource)).toEqual({
      statement_timeout: String(DATABASE_POOL_DEFAULTS.statementTimeoutMs),
      idle_in_transaction_session_timeout: String(DATABASE_POOL_DEFAULTS.idleInTransactionTimeoutMs),
      jit: 'off',
    });
  });

  it('cancels a statement past its timeout with a retriable, coded error', async () => {
    const name = newName();
    const dataSource = await openDatabase({ url: SERVER_URL, database: name, migrations: [EventStoreSchema1763700000000], statementTimeoutMs: 200 });
    pools.push(dataSource);

    expect(await sessionSettings(dataSource)).toMatchObject({ statement_timeout: '200' });
    const slow = inTransaction(dataSource, (tx) => tx.query('SELECT pg_sleep(2)'));
    await expect(slow).rejects.toBeInstanceOf(TransientDatabaseError);
    await expect(slow).rejects.toMatchObject({ code: '57014', retriable: true });
  });

  it('fails a wait for a connection from an exhausted pool after the connect timeout, as the database being unavailable', async () => {
    const name = newName();
    const dataSource = await openDatabase({
      url: SERVER_URL,
      database: name,
      migrations: [EventStoreSchema1763700000000],
      poolSize: 1,
      connectTimeoutMs: 300,
    });
    pools.push(dataSource);
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    try {
      const started = Date.now();
      const starved = inTransaction(dataSource, (tx) => tx.query('SELECT 1'));
      await expect(starved).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(starved).rejects.toMatchObject({ code: 'POOL_TIMEOUT', retriable: true });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await holder.release();
    }
  });

  it('refuses settings that make no sense before touching the database', async () => {
    const options = { url: SERVER_URL, database: newName(), migrations: [] };

    await expect(openDatabase({ ...options, poolSize: 0 })).rejects.toThrow('poolSize must be an integer >= 1');
    await expect(openDatabase({ ...options, statementTimeoutMs: -1 })).rejects.toThrow('statementTimeoutMs must be an integer >= 0');
    await expect(openDatabase({ ...options, connectTimeoutMs: 1.5 })).rejects.toThrow('connectTimeoutMs must be an integer >= 1');
  });
});

describe('ensureDatabase', () => {
  it('is safe when several processes race to create the same database', async () => {
    const name = newName();

    await expect(Promise.all(Array.from({ length: 4 }, () => ensureDatabase(SERVER_URL, name)))).resolves.toBeDefined();

    expect(await databaseExists(name)).toBe(true);
  });

  it('refuses a name that would need quoting', async () => {
    await expect(ensureDatabase(SERVER_URL, 'orderflow_it_"; DROP DATABASE postgres; --')).rejects.toThrow('invalid database name');
    await expect(ensureDatabase(SERVER_URL, 'Orderflow')).rejects.toThrow('invalid database name');
  });
});
