import { randomBytes, randomUUID } from 'node:crypto';
import { createEvent, encodeEvent, type AnyEvent, type EventEnvelope, type WireMessage } from '@orderflow/contracts';
import type { Admin, Kafka } from 'kafkajs';
import { BatchFailure, createKafka, ensureTopics, parseBrokers, topicOffsetsOnceLed, type DeliveryInfo, type EventConsumerOptions } from '../src';

export const KAFKA_BROKERS = parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092');

export const randomSuffix = (): string => randomBytes(4).toString('hex');

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 15_000, intervalMs = 20, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves after `ms`: only for asserting that something does *not* happen within a short window. */
export const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/**
 * One test's private corner of the shared broker: topics and consumer groups under
 * a random prefix, all deleted by `cleanup()`, plus things to close first.
 */
export class KafkaSandbox {
  readonly prefix = `it-${randomSuffix()}.`;
  readonly kafka: Kafka;
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly closers: (() => Promise<unknown>)[] = [];
  /** One connected admin, however many callers ask for it at once. */
  private adminClient: Promise<Admin> | undefined;

  constructor(clientId = 'it-messaging') {
    this.kafka = createKafka({ brokers: KAFKA_BROKERS, clientId });
  }

  /** `<prefix><topic>` and its DLQ, created with `partitions` partitions; returns the prefixed names. */
  async createTopics(topics: readonly string[], partitions = 3): Promise<void> {
    const names = topics.flatMap((t) => [`${this.prefix}${t}`, `${this.prefix}${t}.dlq`]);
    names.forEach((n) => this.topics.add(n));
    await ensureTopics(
      this.kafka,
      names.map((topic) => ({ topic, numPartitions: partitions })),
    );
  }

  /** Registers a topic created some other way, for deletion. */
  trackTopic(name: string): void {
    this.topics.add(name);
  }

  /** Registers a consumer group (full name, with prefix) for deletion. */
  trackGroup(groupId: string): void {
    this.groups.add(groupId);
  }

  /** Runs `close` during cleanup, before topics and groups are deleted (last registered, first closed). */
  onCleanup(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  admin(): Promise<Admin> {
    this.adminClient ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.adminClient = undefined;
      throw error;
    });
    return this.adminClient;
  }

  /** Committed offset per partition of `topic` for `groupId`; -1 where nothing was committed. */
  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const admin = await this.admin();
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((result?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  }

  /** Messages in the topic per partition, from the high-water marks. */
  async topicSize(topic: string): Promise<number> {
    const admin = await this.admin();
    const offsets = await topicOffsetsOnceLed(admin, topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  }

  /** Reads `count` messages from the beginning of `topic` with a throw-away group, per partition in offset order. */
  async readTopic(topic: string, count: number, timeoutMs = 20_000): Promise<ReceivedMessage[]> {
    const groupId = `${topic}.reader-${randomSuffix()}`;
    this.groups.add(groupId);
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
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
    }
    return received.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  async cleanup(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    const admin = await this.admin();
    if (this.groups.size > 0) await admin.deleteGroups([...this.groups]).catch(() => undefined);
    if (this.topics.size > 0) await admin.deleteTopics({ topics: [...this.topics] }).catch(() => undefined);
    await admin.disconnect();
    this.adminClient = undefined;
  }
}

export interface ReceivedMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

const source = 'orderflow/it-messaging';

export function orderPlaced(orderId = `order-${randomUUID()}`): EventEnvelope<'OrderPlaced'> {
  const time = new Date();
  return createEvent(
    'OrderPlaced',
    {
      orderId,
      customerId: 'customer-1',
      items: [{ sku: 'SKU-1', quantity: 1, unitPrice: 999 }],
      total: 999,
      currency: 'EUR',
      payment: { token: 'tok_visa' },
      shippingAddress: { name: 'Ada', line1: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
      placedAt: time.toISOString(),
    },
    { source, time },
  );
}

export function orderConfirmed(orderId: string): EventEnvelope<'OrderConfirmed'> {
  const time = new Date();
  return createEvent('OrderConfirmed', { orderId, confirmedAt: time.toISOString() }, { source, time });
}

/** The message the publisher sends for `event`, addressed to its unprefixed topic. */
export function wire(event: AnyEvent, topic = 'orders.events'): WireMessage & { topic: string } {
  return { topic, ...encodeEvent(event) };
}

/**
 * A batch handler that calls `handle` for each event in turn and names the one that
 * threw, for tests whose handler has no transaction to roll back (the events before
 * a failed one may then be handled again when the consumer cuts the batch).
 */
export function oneByOne(handle: (event: AnyEvent, delivery: DeliveryInfo) => Promise<void>): EventConsumerOptions['handleBatch'] {
  return async (events) => {
    for (const [index, { event, delivery }] of events.entries()) {
      try {
        await handle(event, delivery);
      } catch (error) {
        throw new BatchFailure(index, error);
      }
    }
  };
}
