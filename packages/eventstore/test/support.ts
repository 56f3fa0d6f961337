import { randomBytes, randomUUID } from 'node:crypto';
import { createEvent, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { Client } from 'pg';
import type { Kafka } from 'kafkajs';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { databaseUrl, eventStoreMigrations, openDatabase } from '../src';

export const SERVER_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
export const KAFKA_BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',').map((b) => b.trim());

export const randomSuffix = (): string => randomBytes(4).toString('hex');

export interface TestDatabase {
  name: string;
  dataSource: DataSource;
  /** Another pool on the same database, as a second instance of a service would have. */
  connectAgain(): Promise<DataSource>;
  drop(): Promise<void>;
}

/** A fresh, migrated database `orderflow_it_<random>`; `drop()` closes every pool it handed out and drops it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `orderflow_it_${randomSuffix()}`;
  const open = () => openDatabase({ url: SERVER_URL, database: name, migrations: eventStoreMigrations, poolSize: 10 });
  const pools: DataSource[] = [await open()];
  return {
    name,
    dataSource: pools[0]!,
    connectAgain: async () => {
      const pool = await open();
      pools.push(pool);
      return pool;
    },
    drop: async () => {
      await Promise.all(pools.filter((p) => p.isInitialized).map((p) => p.destroy()));
      await dropDatabase(name);
    },
  };
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl(SERVER_URL, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A transaction the test keeps open across awaits, to interleave it with others.
 * `release()` rolls back whatever is still open, so a failed test leaks nothing.
 */
export interface OpenTransaction {
  tx: EntityManager;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  release(): Promise<void>;
}

export async function beginTransaction(dataSource: DataSource): Promise<OpenTransaction> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  return {
    tx: runner.manager,
    commit: () => runner.commitTransaction(),
    rollback: () => runner.rollbackTransaction(),
    release: async () => {
      if (runner.isReleased) return;
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    },
  };
}

const source = 'orderflow/it-eventstore';
const at = new Date('2025-11-20T10:00:00.000Z');

export function orderPlaced(orderId = `order-${randomUUID()}`, options: { correlationId?: string } = {}): EventEnvelope<'OrderPlaced'> {
  return createEvent(
    'OrderPlaced',
    {
      orderId,
      customerId: 'customer-1',
      // Quotes, a backslash and non-ASCII text survive the way to the database and back.
      items: [{ sku: 'SKU-1', quantity: 2, unitPrice: 1_250 }],
      total: 2_500,
      currency: 'EUR',
      payment: { token: 'tok_"quoted"\\back-slash' },
      shippingAddress: { name: 'Zoë O\'Brien "Ω"', line1: 'Straße 1', city: 'Köln', postalCode: '50667', country: 'DE' },
      placedAt: at.toISOString(),
    },
    { source, time: at, ...(options.correlationId ? { correlationId: options.correlationId } : {}) },
  );
}

export function orderConfirmed(orderId: string, causedBy?: AnyEvent): EventEnvelope<'OrderConfirmed'> {
  return createEvent('OrderConfirmed', { orderId, confirmedAt: at.toISOString() }, { source, time: at, ...(causedBy ? { causedBy } : {}) });
}

export function orderCompleted(orderId: string, causedBy?: AnyEvent): EventEnvelope<'OrderCompleted'> {
  return createEvent('OrderCompleted', { orderId, completedAt: at.toISOString() }, { source, time: at, ...(causedBy ? { causedBy } : {}) });
}

export async function countRows(dataSource: DataSource, table: 'events' | 'outbox' | 'outbox_parked' | 'inbox'): Promise<number> {
  const rows: { n: string }[] = await dataSource.query(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0]?.n ?? 0);
}

export async function outboxEventIds(dataSource: DataSource): Promise<string[]> {
  const rows: { event_id: string }[] = await dataSource.query('SELECT event_id FROM outbox ORDER BY id');
  return rows.map((r) => r.event_id);
}

export interface ReceivedMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads `count` messages from the beginning of `topic` with a throw-away consumer
 * group, returned per partition in offset order. Fails if they do not all arrive.
 */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000): Promise<ReceivedMessage[]> {
  const groupId = `${topic}.reader-${randomSuffix()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  const received: ReceivedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)])),
        });
      },
    });
    await waitFor(() => received.length >= count, { timeoutMs, what: `${count} message(s) on ${topic}` });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return received.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** How many messages a topic holds, from its high-water marks: duplicates would show here. */
export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
