import type { EventConsumerOptions } from './consumer';
import type { DeadLetter, DeadLetterQuery, RedriveOptions, RedriveResult } from './dead-letters';
import type { MessagingLogger } from './kafka';
import type { OutgoingMessage, PartitionedSendReport } from './publisher';

/** The brokers Orderflow runs on; `kafka` is the default. */
export const BROKER_KINDS = ['kafka', 'rabbitmq', 'sqs'] as const;
export type BrokerKind = (typeof BROKER_KINDS)[number];

/**
 * Publishes events and dead letters. Messages are addressed by topic (unprefixed,
 * e.g. `orders.events` or `orders.events.dlq`) and key (the order id, or a sku):
 * each broker keeps one key's messages in order for every consumer group.
 */
export interface Publisher {
  /** Connects now, so that a broker that is down fails the boot rather than the first send. */
  connect(): Promise<void>;
  /**
   * Sends all messages and resolves once the broker acknowledged every one of
   * them (Kafka acks=all, RabbitMQ publisher confirms, SQS's answer); rejects with a
   * BrokerUnavailableError or BrokerRefusedError otherwise.
   */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Sends messages in per-key ordered groups (a Kafka partition, a RabbitMQ
   * partition queue, an SQS message group) and reports which were acknowledged and
   * which group failed: the outbox relay deletes only acknowledged rows, and keeps a
   * failed group's later messages back so a key's order holds.
   */
  sendByPartition<M extends OutgoingMessage>(messages: readonly M[]): Promise<PartitionedSendReport<M>>;
  disconnect(): Promise<void>;
}

/** Consumes a group's topics (see `EventConsumerOptions` for the contract); one per service. */
export interface Subscriber {
  start(): Promise<void>;
  /** Stops fetching, lets the batches in flight finish and acknowledges them, then disconnects. */
  stop(): Promise<void>;
}

/** Messages a consumer group has still to handle on one of a topic's partitions (or its queue). */
export interface PartitionLag {
  /** Without the environment's prefix. */
  group: string;
  /** Without the environment's prefix. */
  topic: string;
  partition: number;
  /** Messages not yet acknowledged by the group: waiting, or delivered and in flight. */
  lag: number;
}

/** Options every transport understands; each adds its own connection settings. */
export interface TransportOptions {
  /** Prefix for every topic, queue, exchange and consumer group: isolated environments on one broker. */
  topicPrefix?: string;
  /** Names the client on the broker (Kafka client id, RabbitMQ connection name). */
  clientId: string;
  logger?: MessagingLogger;
  /** Called for every request the transport's clients make to the broker, with a short name (`Produce`, `publish`, `ReceiveMessage`, …). */
  onRequest?: (client: 'producer' | 'consumer' | 'admin', api: string) => void;
}

/**
 * One broker behind the interface the services, the outbox relay, the tools and
 * the tests use; nothing outside `packages/messaging` knows which broker runs.
 *
 * Topology: Kafka keeps every topic for a consumer group that joins later;
 * RabbitMQ and SQS deliver only to queues that exist when a message is published.
 * `setUp` therefore declares, from the contracts' `SUBSCRIPTIONS`, every group's
 * queues next to the topics, so an event published before its consumer first ran
 * still reaches it, as on Kafka.
 */
export interface Transport {
  readonly kind: BrokerKind;
  /** Where it connects, without credentials, for log lines and errors: `Kafka at 127.0.0.1:9092`. */
  readonly description: string;
  /** The environment variable that says where the broker is, for error messages (`KAFKA_BROKERS`, …). */
  readonly addressVariable: string;
  /**
   * Creates what is missing of the topology (topics, exchanges, queues, dead-letter
   * places) and brings settings of existing ones in line. Idempotent; safe from
   * every instance at boot. Returns the names it created.
   */
  setUp(): Promise<string[]>;
  /** Answers a readiness probe: the broker takes requests. */
  reachable(): Promise<boolean>;
  publisher(): Publisher;
  /** `deadLetters` is ignored when given: the transport parks letters with its own publisher. */
  subscriber(options: Omit<EventConsumerOptions, 'deadLetters' | 'topicPrefix' | 'onRequest'>): Subscriber;
  /** Every consumer group's lag on these topics (unprefixed), measured at the broker, so a stopped consumer's lag still shows. */
  lag(topics: readonly string[]): Promise<PartitionLag[]>;
  /** What is parked in the topics' dead-letter places, moving nothing. */
  listDeadLetters(query: Omit<DeadLetterQuery, 'prefix'>): Promise<DeadLetter[]>;
  /** Republishes matching letters to their topic, each addressed to the group that parked it. */
  redriveDeadLetters(options: Omit<RedriveOptions, 'prefix'>): Promise<RedriveResult>;
  /**
   * Deletes what `setUp` created under this transport's prefix (topics, queues,
   * exchanges, consumer groups): for tests and throw-away environments, never
   * for a live one.
   */
  tearDown(): Promise<void>;
  /** Closes every connection the transport opened (publishers and subscribers are stopped by their owners first). */
  close(): Promise<void>;
}
