import { decodeEvent, encodeEvent, type AnyEvent } from '@orderflow/contracts';
import { KafkaPublisher, createKafka, ensureTopics } from '@orderflow/messaging';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
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

/** A topic of this test's own, created with broker-side settings. */
async function createTopic(topic: string, configEntries: { name: string; value: string }[] = [], numPartitions = 3): Promise<void> {
  topics.push(topic);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions, replicationFactor: 1, configEntries }] });
  } finally {
    await admin.disconnect();
  }
}

/** A row written straight into the outbox, as a message the contracts would never let through. */
async function insertRawRow(topic: string, key: string, value: string): Promise<void> {
  await db.dataSource.query(
    "INSERT INTO outbox (event_id, topic, message_key, headers, payload) VALUES (gen_random_uuid(), $1, $2, '{}'::jsonb, $3)",
    [topic, key, value],
  );
}

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
    maxBackoffMs: 200,
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

describe('with the publisher sending per partition', () => {
  it('parks a row too large for the broker while later rows of other keys are published', async () => {
    const prefix = `it-${randomSuffix()}.`;
    const topic = `${prefix}orders.events`;
    await createTopic(topic, [{ name: 'max.message.bytes', value: '20000' }]);
    const kafkaPublisher = publisher(kafka, prefix);
    const parked: OutboxMessage[] = [];
    const relay = new OutboxRelay(db.dataSource, {
      publish: (m) => kafkaPublisher.sendByPartition(m),
      onParked: (m) => parked.push(m),
      logger: { log: () => undefined, warn: () => undefined },
    });
    relays.push(relay);
    const first = orderPlaced();
    await appendCommitted(`order-${first.subject}`, 0, first);
    await insertRawRow('orders.events', first.subject, JSON.stringify({ padding: 'x'.repeat(50_000) }));
    const { all } = await twoInterleavedOrders();

    await expect(relay.drain()).resolves.toBe(1 + all.length);

    expect(parked.map((m) => m.key)).toEqual([first.subject]);
    const rows: { message_key: string; error_name: string; error_code: string }[] = await db.dataSource.query(
      'SELECT message_key, error_name, error_code FROM outbox_parked',
    );
    expect(rows).toEqual([{ message_key: first.subject, error_name: 'BrokerRefusedError', error_code: 'MESSAGE_TOO_LARGE' }]);
    expect(await relay.pending()).toBe(0);
    const received = await readTopic(kafka, topic, 1 + all.length);
    expect(received.map((m) => m.headers['ce_id']).sort()).toEqual([first, ...all].map((e) => e.id).sort());
    expect(await topicSize(kafka, topic)).toBe(1 + all.length);
    await db.dataSource.query('DELETE FROM outbox_parked');
  });

  it('parks the rows for a topic that does not exist without holding back the others', async () => {
    const { prefix, topic } = await ordersTopic();
    const kafkaPublisher = publisher(kafka, prefix);
    const relay = new OutboxRelay(db.dataSource, { publish: (m) => kafkaPublisher.sendByPartition(m), logger: { log: () => undefined, warn: () => undefined } });
    relays.push(relay);
    await insertRawRow('nowhere.events', 'k-1', '{}');
    const { all } = await twoInterleavedOrders();

    await expect(relay.drain()).resolves.toBe(all.length);

    const rows: { topic: string; error_code: string }[] = await db.dataSource.query('SELECT topic, error_code FROM outbox_parked');
    expect(rows).toEqual([{ topic: 'nowhere.events', error_code: 'UNKNOWN_TOPIC_OR_PARTITION' }]);
    expect(await topicSize(kafka, topic)).toBe(all.length);
    await db.dataSource.query('DELETE FROM outbox_parked');
  });

  it('deletes the acknowledged rows when another partition fails, and recovers with a new producer, storing each row once', async () => {
    const prefix = `it-${randomSuffix()}.`;
    const orders = `${prefix}orders.events`;
    const payments = `${prefix}payments.events`;
    await createTopic(orders);
    // Without stopping the shared broker: a topic that accepts no message timestamp
    // in the past fails every produce with INVALID_TIMESTAMP (clock skew, worth
    // retrying) until the setting is relaxed. The messages are dated a minute back,
    // so none can slip through within the broker's millisecond.
    await createTopic(payments, [{ name: 'message.timestamp.before.max.ms', value: '0' }], 1);
    const kafkaPublisher = new KafkaPublisher(kafka, prefix, { sendRetries: 1 });
    publishers.push(kafkaPublisher);
    const minuteAgo = () => String(Date.now() - 60_000);
    const relay = new OutboxRelay(db.dataSource, {
      publish: async (messages) => {
        const report = await kafkaPublisher.sendByPartition(messages.map((m) => ({ ...m, timestamp: minuteAgo() })));
        const byId = new Map(messages.map((m) => [m.id, m]));
        return {
          acked: report.acked.map((m) => byId.get(m.id)!),
          failed: report.failed.map((f) => ({ messages: f.messages.map((m) => byId.get(m.id)!), error: f.error })),
        };
      },
    });
    relays.push(relay);
    const { all } = await twoInterleavedOrders();
    await insertRawRow('payments.events', 'order-p', '{"n":1}');
    await insertRawRow('payments.events', 'order-p', '{"n":2}');

    await expect(relay.drain()).rejects.toMatchObject({ name: 'BrokerUnavailableError', code: 'INVALID_TIMESTAMP', retriable: true });

    const left: { topic: string; payload: string }[] = await db.dataSource.query('SELECT topic, payload FROM outbox ORDER BY id');
    expect(left).toEqual([
      { topic: 'payments.events', payload: '{"n":1}' },
      { topic: 'payments.events', payload: '{"n":2}' },
    ]);
    expect(await topicSize(kafka, orders)).toBe(all.length);
    const generation = kafkaPublisher.producerGeneration;

    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: payments, configEntries: [{ name: 'message.timestamp.before.max.ms', value: '9223372036854775807' }] }],
    });
    await admin.disconnect();
    await waitFor(async () => (await relay.drain().catch(() => 0)) > 0, { timeoutMs: 20_000, intervalMs: 200, what: 'the relay to publish again' });

    expect(kafkaPublisher.producerGeneration).toBeGreaterThan(generation);
    expect(await relay.pending()).toBe(0);
    expect(await topicSize(kafka, payments)).toBe(2);
    expect(await topicSize(kafka, orders)).toBe(all.length);
    const received = await readTopic(kafka, payments, 2);
    expect(received.map((m) => m.value)).toEqual(['{"n":1}', '{"n":2}']);
  });
});
