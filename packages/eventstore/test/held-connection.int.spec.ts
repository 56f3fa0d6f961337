import { encodeEvent, type AnyEvent } from '@orderflow/contracts';
import { EventConsumer, KafkaPublisher, createKafka, ensureTopics, isMarkedRetriable } from '@orderflow/messaging';
import type { DataSource, QueryRunner } from 'typeorm';
import { EventStoreSchema1763700000000, claimInbox, inTransaction, openDatabase } from '../src';
import { KAFKA_BROKERS, SERVER_URL, createTestDatabase, orderPlaced, randomSuffix, topicSize, waitFor, type TestDatabase } from './support';

/**
 * Faults are classified once, where they happen: a pool that cannot hand out a
 * connection is the database being unavailable, retried while the partition
 * waits, never a poison event dead-lettered after a few quick attempts.
 */
const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'it-eventstore-held-connection' });
const prefix = `it-held-${randomSuffix()}.`;
const topic = `${prefix}orders.events`;
const dlq = `${topic}.dlq`;
const group = `held-${randomSuffix()}`;

let db: TestDatabase;
let pool: DataSource;
let publisher: KafkaPublisher;
let consumer: EventConsumer | undefined;
let holder: QueryRunner | undefined;

const MAX_ATTEMPTS = 3;
const INITIAL_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 400;
const CONNECT_TIMEOUT_MS = 300;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.dataSource.query('CREATE TABLE effects (event_id uuid PRIMARY KEY, applied integer NOT NULL DEFAULT 1)');
  // The handler's pool: one connection, given up on quickly.
  pool = await openDatabase({
    url: SERVER_URL,
    database: db.name,
    migrations: [EventStoreSchema1763700000000],
    poolSize: 1,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  });
  await ensureTopics(kafka, [
    { topic, numPartitions: 1 },
    { topic: dlq, numPartitions: 1 },
  ]);
  publisher = new KafkaPublisher(kafka, prefix);
});

afterAll(async () => {
  await consumer?.stop();
  await holder?.release().catch(() => undefined);
  await publisher?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([`${prefix}${group}`]).catch(() => undefined);
  await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
  await admin.disconnect();
  if (pool?.isInitialized) await pool.destroy();
  await db?.drop();
});

it('processes an event once the only pool connection is released, past the poison retry budget, with nothing dead-lettered', async () => {
  holder = pool.createQueryRunner();
  await holder.connect();
  const failures: string[] = [];
  const placed = orderPlaced();

  consumer = new EventConsumer(kafka, {
    groupId: group,
    topics: ['orders.events'],
    topicPrefix: prefix,
    handles: (type) => type === 'OrderPlaced',
    handleBatch: (events: readonly { event: AnyEvent }[]) =>
      inTransaction(pool, async (tx) => {
        for (const { event } of events) {
          if (await claimInbox(tx, group, event.id)) {
            await tx.query('INSERT INTO effects (event_id) VALUES ($1) ON CONFLICT (event_id) DO UPDATE SET applied = effects.applied + 1', [event.id]);
          }
        }
      }),
    deadLetters: publisher,
    // The errors carry their retry class: no database-specific classifier is needed.
    isRetriable: isMarkedRetriable,
    maxAttempts: MAX_ATTEMPTS,
    initialBackoffMs: INITIAL_BACKOFF_MS,
    maxBackoffMs: MAX_BACKOFF_MS,
    logger: { log: () => undefined, warn: (m) => failures.push(m), error: (m) => failures.push(m) },
  });
  await consumer.start();
  await publisher.send([{ topic: 'orders.events', ...encodeEvent(placed) }]);

  // Held for well over the poison budget: maxAttempts × (connect timeout + backoff).
  const budgetMs = MAX_ATTEMPTS * (CONNECT_TIMEOUT_MS + MAX_BACKOFF_MS);
  const parked = () => failures.filter((m) => m.startsWith('parking'));
  await waitFor(() => failures.length > MAX_ATTEMPTS || parked().length > 0, { timeoutMs: 30_000, what: 'more failed attempts than the poison budget allows' });
  expect(parked()).toEqual([]);
  await new Promise((resolve) => setTimeout(resolve, budgetMs));
  const effectsWhileHeld: unknown[] = await db.dataSource.query('SELECT 1 FROM effects');
  expect(effectsWhileHeld).toEqual([]);
  await holder.release();

  await waitFor(async () => (await db.dataSource.query<unknown[]>('SELECT 1 FROM effects')).length > 0, {
    timeoutMs: 15_000,
    what: 'the event to be processed',
  });

  expect(await db.dataSource.query('SELECT event_id, applied FROM effects')).toEqual([{ event_id: placed.id, applied: 1 }]);
  expect(failures.some((m) => m.includes('DatabaseUnavailableError') || m.includes('timeout exceeded'))).toBe(true);
  expect(failures.every((m) => m.includes('(attempt') && m.includes('retriable)') && !m.includes('not retriable'))).toBe(true);
  expect(await topicSize(kafka, dlq)).toBe(0);
});
