import { decodeEvent, encodeEvent, type AnyEvent } from '@orderflow/contracts';
import { KafkaPublisher, createKafka, ensureTopics } from '@orderflow/messaging';
import { Kafka, logLevel } from 'kafkajs';
import { OutboxRelay, appendToStream, type OutboxMessage } from '../src';
import {
  KAFKA_BROKERS,
  createTestDatabase,
  orderCompleted,
  orderConfirmed,
  orderPlaced,
  randomSuffix,
  readTopic,
  topicSize,
  waitFor,
  type ReceivedMessage,
  type TestDatabase,
} from './support';

let db: TestDatabase;
const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'it-eventstore-relay' });
const topics: string[] = [];
const publishers: KafkaPublisher[] = [];
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});

beforeEach(async () => {
  await db.dataSource.query('DELETE FROM outbox');
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await Promise.all(publishers.splice(0).map((p) => p.disconnect().catch(() => undefined)));
});

afterAll(async () => {
  if (topics.length > 0) {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
  await db?.drop();
});

/** A private `<prefix>orders.events` for one test. */
async function ordersTopic(): Promise<{ prefix: string; topic: string }> {
  const prefix = `it-${randomSuffix()}.`;
  const topic = `${prefix}orders.events`;
  topics.push(topic);
  await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
  return { prefix, topic };
}

function publisher(target: Kafka, prefix: string): KafkaPublisher {
  const p = new KafkaPublisher(target, prefix);
  publishers.push(p);
  return p;
}

async function appendCommitted(streamId: string, expectedVersion: number, event: AnyEvent): Promise<void> {
  await db.dataSource.transaction((tx) => appendToStream(tx, streamId, expectedVersion, [{ event, publish: true }]));
}

/** Two orders' streams written interleaved, one transaction per event. */
async function twoInterleavedOrders(): Promise<{ a: AnyEvent[]; b: AnyEvent[]; all: AnyEvent[] }> {
  const aPlaced = orderPlaced();
  const bPlaced = orderPlaced();
  const aConfirmed = orderConfirmed(aPlaced.subject, aPlaced);
  const bConfirmed = orderConfirmed(bPlaced.subject, bPlaced);
  const aCompleted = orderCompleted(aPlaced.subject, aConfirmed);
  const streamA = `order-${aPlaced.subject}`;
  const streamB = `order-${bPlaced.subject}`;
  await appendCommitted(streamA, 0, aPlaced);
  await appendCommitted(streamB, 0, bPlaced);
  await appendCommitted(streamA, 1, aConfirmed);
  await appendCommitted(streamB, 1, bConfirmed);
  await appendCommitted(streamA, 2, aCompleted);
  return { a: [aPlaced, aConfirmed, aCompleted], b: [bPlaced, bConfirmed], all: [aPlaced, bPlaced, aConfirmed, bConfirmed, aCompleted] };
}

function expectStreamInOrder(received: ReceivedMessage[], stream: AnyEvent[]): void {
  const mine = received.filter((m) => m.key === stream[0]?.subject);
  expect(mine.map((m) => m.headers['ce_id'])).toEqual(stream.map((e) => e.id));
  expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
  mine.forEach((message, i) => {
    const event = stream[i]!;
    expect(message.headers).toEqual(encodeEvent(event).headers);
    expect(decodeEvent(message)).toEqual(event);
  });
}

it('publishes each stream to its topic in stream-version order, with the ce_* headers', async () => {
  const { prefix, topic } = await ordersTopic();
  const { a, b, all } = await twoInterleavedOrders();
  const kafkaPublisher = publisher(kafka, prefix);
  const relay = new OutboxRelay(db.dataSource, { publish: (m) => kafkaPublisher.send(m), batchSize: 2 });
  relays.push(relay);

  await expect(relay.drain()).resolves.toBe(all.length);

  expect(await topicSize(kafka, topic)).toBe(all.length);
  const received = await readTopic(kafka, topic, all.length);
  expect(received).toHaveLength(all.length);
  expect(new Set(received.map((m) => m.headers['ce_id'])).size).toBe(all.length);
  expectStreamInOrder(received, a);
  expectStreamInOrder(received, b);
  const first = received.find((m) => m.headers['ce_id'] === a[0]?.id);
  expect(first?.headers).toMatchObject({
    ce_type: 'OrderPlaced',
    ce_specversion: '1.0',
    ce_source: 'orderflow/it-eventstore',
    ce_subject: a[0]?.subject,
    ce_correlationid: a[0]?.id,
    'content-type': 'application/json',
  });
  expect(await relay.pending()).toBe(0);
});

it('keeps the outbox while the broker is unreachable and publishes everything in id order once it is back', async () => {
  const { prefix, topic } = await ordersTopic();
  // A closed port, with retries short enough that each attempt fails fast.
  const unreachable = new Kafka({
    clientId: 'it-eventstore-unreachable',
    brokers: ['127.0.0.1:1'],
    connectionTimeout: 250,
    retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
    logLevel: logLevel.NOTHING,
  });
  let current = publisher(unreachable, prefix);
  const sent: string[] = [];
  const warnings: string[] = [];
  const relay = new OutboxRelay(db.dataSource, {
    pollIntervalMs: 20,
    publish: async (messages: OutboxMessage[]) => {
      await current.send(messages);
      sent.push(...messages.map((m) => m.eventId));
    },
    logger: { log: () => undefined, warn: (m) => warnings.push(m) },
  });
  relays.push(relay);
  const { a, b, all } = await twoInterleavedOrders();

  await expect(relay.drain()).rejects.toThrow();
  expect(await relay.pending()).toBe(all.length);
  relay.start();
  await waitFor(() => warnings.length >= 2, { what: 'the relay to fail twice' });
  expect(await relay.pending()).toBe(all.length);
  expect(sent).toEqual([]);

  current = publisher(kafka, prefix);
  await waitFor(async () => (await relay.pending()) === 0, { timeoutMs: 20_000, what: 'the outbox to empty' });

  expect(sent).toEqual(all.map((e) => e.id));
  expect(await topicSize(kafka, topic)).toBe(all.length);
  const received = await readTopic(kafka, topic, all.length);
  expect(received).toHaveLength(all.length);
  expectStreamInOrder(received, a);
  expectStreamInOrder(received, b);
});
