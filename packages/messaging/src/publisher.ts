import { Partitioners, type Admin, type ITopicMetadata, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import { isPartitionError, toBrokerError, type BrokerError } from './errors';

export interface OutgoingMessage {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  /** Kafka message timestamp in ms since the epoch (as a string); the send time when absent. */
  timestamp?: string;
}

interface PartitionGroup {
  topic: string;
  partition: number;
  messages: readonly OutgoingMessage[];
}

/** What the broker did with each message of a `sendByPartition` call. */
export interface PartitionedSendReport<M extends OutgoingMessage> {
  /** Acknowledged by all in-sync replicas. */
  acked: M[];
  /** One entry per topic-partition whose send failed; none of its messages is acknowledged. */
  failed: { topic: string; partition: number | undefined; messages: M[]; error: BrokerError }[];
}

export interface KafkaPublisherOptions {
  /** Retries of one send inside kafkajs before it fails and the producer is replaced. */
  sendRetries?: number;
  /** How long a topic's partition count is trusted before it is fetched again. */
  metadataMaxAgeMs?: number;
  /** Called for every request the producer makes to the broker, with its API name (`Produce`, …). */
  onRequest?: (apiName: string) => void;
}

type Settings = Required<Omit<KafkaPublisherOptions, 'onRequest'>> & Pick<KafkaPublisherOptions, 'onRequest'>;

const DEFAULTS: Settings = { sendRetries: 5, metadataMaxAgeMs: 60_000 };

function validated(options: KafkaPublisherOptions): Settings {
  const merged = { ...DEFAULTS, ...options };
  if (!Number.isInteger(merged.sendRetries) || merged.sendRetries < 1) throw new RangeError('sendRetries must be an integer >= 1');
  if (!(merged.metadataMaxAgeMs >= 0)) throw new RangeError('metadataMaxAgeMs must be >= 0');
  return merged;
}

/**
 * Idempotent producer with acks=all and one request in flight, so a retried send
 * neither duplicates nor reorders messages within a partition.
 *
 * After a failed send the producer is thrown away and the next send gets a new
 * one (a new producer id). kafkajs rolls a partition's sequence number back when
 * a produce fails; if the broker had in fact stored that batch, the next batch
 * goes out with the same sequence and is acknowledged as a duplicate without
 * being stored, or the producer wedges on OUT_OF_ORDER_SEQUENCE_NUMBER. For the
 * same reason sends run one at a time: a second send must never take a sequence
 * number between a failure and the producer's replacement.
 */
export class KafkaPublisher {
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly metadataByTopic = new Map<string, { metadata: ITopicMetadata; fetchedAt: number }>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly options: Settings;
  private generation = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topicPrefix = '',
    options: KafkaPublisherOptions = {},
  ) {
    this.options = validated(options);
  }

  /** How many producers this publisher has created: one more after every failed send. */
  get producerGeneration(): number {
    return this.generation;
  }

  async connect(): Promise<void> {
    await this.exclusively(() => this.currentProducer());
  }

  /**
   * Sends all messages at once and resolves once every one is acknowledged by all
   * in-sync replicas; rejects with a BrokerUnavailableError or BrokerRefusedError.
   */
  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.exclusively(() =>
      this.produce((producer) => producer.sendBatch({ acks: -1, topicMessages: this.topicMessages(messages.map((m) => ({ topic: m.topic, messages: [m] }))) })),
    );
  }

  /**
   * Sends messages grouped by topic-partition and reports which groups the broker
   * acknowledged and which failed with which error. The partition is the one the
   * producer's murmur2 partitioner gives the key (the Java client's), set
   * explicitly on each message.
   *
   * All groups go out in one Produce request: a relay pass spans several
   * partitions, and a request per partition, one after the other, cost a round
   * trip each. When a partition fails, each group is sent again alone to say which
   * (`sendGroups`), and none is stored twice.
   */
  async sendByPartition<M extends OutgoingMessage>(messages: readonly M[]): Promise<PartitionedSendReport<M>> {
    const report: PartitionedSendReport<M> = { acked: [], failed: [] };
    if (messages.length === 0) return report;
    await this.exclusively(async () => {
      const groups = new Map<string, { topic: string; partition: number | undefined; messages: M[] }>();
      const unknownTopics = new Map<string, BrokerError>();
      for (const message of messages) {
        let partition: number | undefined;
        if (!unknownTopics.has(message.topic)) {
          try {
            partition = await this.partitionOf(message);
          } catch (error) {
            unknownTopics.set(message.topic, toBrokerError(error));
          }
        }
        const id = `${message.topic}\u0000${partition ?? '?'}`;
        const group = groups.get(id) ?? { topic: message.topic, partition, messages: [] };
        group.messages.push(message);
        groups.set(id, group);
      }
      const sendable = [...groups.values()].filter((g): g is { topic: string; partition: number; messages: M[] } => g.partition !== undefined);
      const errors = await this.sendGroups(sendable);
      for (const group of groups.values()) {
        const error =
          group.partition === undefined ? (unknownTopics.get(group.topic) ?? toBrokerError(new Error(`no partition for ${group.topic}`))) : errors.get(group as PartitionGroup);
        if (error) report.failed.push({ ...group, error });
        else report.acked.push(...group.messages);
      }
    });
    return report;
  }

  /**
   * Sends every group in one Produce request and returns the error of each group
   * that failed. Kafka stores or refuses each partition of a request on its own,
   * and kafkajs reports only the first partition's error: then each group goes
   * again alone, to learn which failed. That round uses the same producer, whose
   * sequence numbers kafkajs rolled back, so the broker acknowledges a group it
   * had stored as a duplicate instead of storing it twice. A failure that is no
   * partition's answer (connection lost, timeout) fails every group.
   */
  private async sendGroups(groups: readonly PartitionGroup[]): Promise<Map<PartitionGroup, BrokerError>> {
    const errors = new Map<PartitionGroup, BrokerError>();
    if (groups.length === 0) return errors;
    let producer: Producer;
    try {
      producer = await this.currentProducer();
    } catch (error) {
      for (const group of groups) errors.set(group, toBrokerError(error));
      return errors;
    }
    try {
      await producer.sendBatch({ acks: -1, topicMessages: this.topicMessages(groups) });
      return errors;
    } catch (error) {
      if (groups.length === 1 || !isPartitionError(error)) {
        for (const group of groups) errors.set(group, toBrokerError(error));
        await this.discardProducer();
        return errors;
      }
    }
    // Each partition goes once in this round: a failed one's rolled-back sequence is not used again before the producer is replaced.
    for (const group of groups) {
      try {
        await producer.sendBatch({ acks: -1, topicMessages: this.topicMessages([group]) });
      } catch (error) {
        errors.set(group, toBrokerError(error));
      }
    }
    if (errors.size > 0) await this.discardProducer();
    return errors;
  }

  /**
   * Messages as kafkajs takes them, one entry per topic in the order given, each
   * message with its group's partition when it has one (else the producer's partitioner chooses).
   */
  private topicMessages(groups: readonly (Omit<PartitionGroup, 'partition'> & { partition?: number })[]): TopicMessages[] {
    const byTopic = new Map<string, TopicMessages>();
    for (const { topic, partition, messages } of groups) {
      let entry = byTopic.get(topic);
      if (!entry) byTopic.set(topic, (entry = { topic: `${this.topicPrefix}${topic}`, messages: [] }));
      for (const m of messages) {
        entry.messages.push({ key: m.key, value: m.value, headers: m.headers, ...(partition === undefined ? {} : { partition }), ...(m.timestamp ? { timestamp: m.timestamp } : {}) });
      }
    }
    return [...byTopic.values()];
  }

  async disconnect(): Promise<void> {
    await this.exclusively(async () => {
      await this.discardProducer();
      const admin = this.admin;
      this.admin = undefined;
      await admin?.disconnect();
    });
  }

  private async produce(send: (producer: Producer) => Promise<unknown>): Promise<void> {
    const producer = await this.currentProducer();
    try {
      await send(producer);
    } catch (error) {
      await this.discardProducer();
      throw toBrokerError(error);
    }
  }

  private async currentProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded, unlike kafkajs's default for idempotent producers: a send that
      // cannot succeed (unknown topic, broker gone) must fail so the caller can
      // back off or park it; the replacement producer keeps the retry safe.
      retry: { retries: this.options.sendRetries },
    });
    const onRequest = this.options.onRequest;
    if (onRequest) producer.on(producer.events.REQUEST, (e) => onRequest(e.payload.apiName));
    producer.on(producer.events.DISCONNECT, () => {
      if (this.producer === producer) this.producer = undefined;
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toBrokerError(error);
    }
    this.producer = producer;
    this.generation++;
    return producer;
  }

  private async discardProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async partitionOf(message: OutgoingMessage): Promise<number> {
    const metadata = await this.topicMetadata(message.topic);
    return this.partitioner({
      topic: metadata.name,
      partitionMetadata: metadata.partitions,
      message: { key: message.key, value: message.value },
    });
  }

  private async topicMetadata(topic: string): Promise<ITopicMetadata> {
    const cached = this.metadataByTopic.get(topic);
    if (cached && Date.now() - cached.fetchedAt <= this.options.metadataMaxAgeMs) return cached.metadata;
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [`${this.topicPrefix}${topic}`] });
    const metadata = topics[0];
    if (!metadata || metadata.partitions.length === 0) throw new Error(`no metadata for topic ${this.topicPrefix}${topic}`);
    this.metadataByTopic.set(topic, { metadata, fetchedAt: Date.now() });
    return metadata;
  }

  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
