import { SUBSCRIPTIONS, type TopicName } from '@orderflow/contracts';
import type { Admin, Kafka } from 'kafkajs';
import { EventConsumer } from './consumer';
import { consumerLag } from './consumer-lag';
import { listDeadLetters, redriveDeadLetters } from './dead-letters';
import { createKafka, parseBrokers } from './kafka';
import { KafkaPublisher } from './publisher';
import { brokerReachable, ensureTopics, orderflowTopics } from './topics-admin';
import type { PartitionLag, Subscriber, Transport, TransportOptions } from './transport';

export interface KafkaTransportOptions extends TransportOptions {
  /** Comma-separated `host:port` list (KAFKA_BROKERS). */
  brokers: string;
  /** For the topics `setUp` creates. Default 1. */
  replicationFactor?: number;
}

/**
 * Kafka: a topic per domain with `TOPIC_PARTITIONS` partitions keyed by order id
 * (or sku), a consumer group per service, a `<topic>.dlq` topic per topic. The
 * groups need no declaring: a topic keeps its events for a group that joins later.
 */
export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  readonly addressVariable = 'KAFKA_BROKERS';
  readonly description: string;
  /** The kafkajs client, for what only Kafka can do (reading a compacted topic whole). */
  readonly kafka: Kafka;
  private readonly prefix: string;
  private admin: Promise<Admin> | undefined;
  private readonly publishers = new Set<KafkaPublisher>();
  private deadLetterPublisher: KafkaPublisher | undefined;

  constructor(private readonly options: KafkaTransportOptions) {
    this.kafka = createKafka({ brokers: parseBrokers(options.brokers), clientId: options.clientId, ...(options.logger ? { logger: options.logger } : {}) });
    this.prefix = options.topicPrefix ?? '';
    this.description = `Kafka at ${options.brokers}`;
  }

  async setUp(): Promise<string[]> {
    return ensureTopics(this.kafka, orderflowTopics(this.prefix), this.options.replicationFactor ?? 1);
  }

  reachable(): Promise<boolean> {
    return brokerReachable(this.kafka);
  }

  publisher(): KafkaPublisher {
    const onRequest = this.options.onRequest;
    const publisher = new KafkaPublisher(this.kafka, this.prefix, onRequest ? { onRequest: (api) => onRequest('producer', api) } : {});
    this.publishers.add(publisher);
    return publisher;
  }

  subscriber(options: Parameters<Transport['subscriber']>[0]): Subscriber {
    const onRequest = this.options.onRequest;
    return new EventConsumer(this.kafka, {
      ...options,
      topicPrefix: this.prefix,
      deadLetters: this.parking(),
      ...(onRequest ? { onRequest: (api: string) => onRequest('consumer', api) } : {}),
    });
  }

  async lag(topics: readonly string[]): Promise<PartitionLag[]> {
    // The groups the contracts subscribe to a topic count from its start until they commit, as their queues would on the other brokers.
    const expected = new Map(topics.map((t) => [`${this.prefix}${t}`, (SUBSCRIPTIONS[t as TopicName] ?? []).map((g) => `${this.prefix}${g}`)]));
    const lags = await consumerLag(await this.connectedAdmin(), [...expected.keys()], this.prefix, expected);
    const strip = (name: string) => name.slice(this.prefix.length);
    return lags.map((l) => ({ ...l, group: strip(l.group), topic: strip(l.topic) }));
  }

  listDeadLetters(query: Parameters<Transport['listDeadLetters']>[0]) {
    return listDeadLetters(this.kafka, { ...query, prefix: this.prefix });
  }

  redriveDeadLetters(options: Parameters<Transport['redriveDeadLetters']>[0]) {
    return redriveDeadLetters(this.kafka, this.parking(), { ...options, prefix: this.prefix });
  }

  async tearDown(): Promise<void> {
    if (!this.prefix) throw new Error('KafkaTransport.tearDown needs a topic prefix: it would delete every topic of the cluster');
    const admin = await this.connectedAdmin();
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((g) => g.startsWith(this.prefix));
    if (ours.length > 0) await admin.deleteGroups(ours).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(this.prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  }

  async close(): Promise<void> {
    await Promise.all([...this.publishers].map((p) => p.disconnect().catch(() => undefined)));
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  /** The one publisher dead letters and redrives go through. */
  private parking(): KafkaPublisher {
    this.deadLetterPublisher ??= this.publisher();
    return this.deadLetterPublisher;
  }

  private connectedAdmin(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.admin = undefined;
      throw error;
    });
    return this.admin;
  }
}
