import { decodeEvent, dlqTopicOf, isEventType, type AnyEvent, type EventType } from '@orderflow/contracts';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import type { MessagingLogger } from './kafka';
import type { KafkaPublisher } from './publisher';
import { isMarkedRetriable, type ErrorClassifier } from './errors';
import { DeadLetterHeaders, EVENT_TYPE_HEADER, headerStrings } from './headers';

export interface DeliveryInfo {
  topic: string;
  partition: number;
  offset: string;
}

export type ProcessOutcome = 'processed' | 'ignored' | 'dead-lettered';

export interface EventConsumerOptions {
  groupId: string;
  /** Topic names without prefix, e.g. `orders.events`. */
  topics: readonly string[];
  topicPrefix?: string;
  /**
   * Events of other types on the same topics, and of types this build of the
   * contracts does not know, are acknowledged from their `ce_type` header without
   * being decoded: a type added later by a producer never dead-letters here.
   */
  handles: (type: EventType) => boolean;
  handle: (event: AnyEvent, delivery: DeliveryInfo) => Promise<void>;
  /** Publishes dead letters; the consumer does not commit past a poison event until it is parked. */
  deadLetters: KafkaPublisher;
  /**
   * Classifies a handler failure that does not carry its own `retriable` flag
   * (errors made by our code say whether they are worth retrying; this covers
   * the driver and library errors that do not).
   */
  isRetriable?: ErrorClassifier;
  /** Attempts for a non-retriable failure before the event goes to the dead-letter topic. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  partitionsConsumedConcurrently?: number;
  logger?: MessagingLogger;
  onOutcome?: (outcome: ProcessOutcome, type: string, durationMs: number) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

class ConsumerStopping extends Error {
  override readonly name = 'ConsumerStopping';
}

/**
 * At-least-once consumption with exactly-once effect (the handler's inbox):
 * offsets are committed only after the handler resolved, transient failures are
 * retried with backoff while the partition waits, and an invalid or repeatedly
 * failing event is parked in `<topic>.dlq` with the error in its headers.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly options: Required<Omit<EventConsumerOptions, 'logger' | 'onOutcome'>> &
    Pick<EventConsumerOptions, 'logger' | 'onOutcome'>;

  constructor(kafka: Kafka, options: EventConsumerOptions) {
    this.options = {
      topicPrefix: '',
      isRetriable: isMarkedRetriable,
      maxAttempts: 3,
      initialBackoffMs: 100,
      maxBackoffMs: 5_000,
      partitionsConsumedConcurrently: 3,
      ...options,
    };
    this.consumer = kafka.consumer({
      groupId: `${this.options.topicPrefix}${options.groupId}`,
      allowAutoTopicCreation: false,
      // A member that vanished (crash, broker restart) is evicted after the session
      // timeout; a rebalance waits at most the rebalance timeout for the others.
      sessionTimeout: 15_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 500,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.options.topics.map((t) => `${this.options.topicPrefix}${t}`),
      // A group seen for the first time starts at the beginning: events published
      // before this service ever ran are still its to handle.
      fromBeginning: true,
    });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachMessage: async (payload) => {
        const handling = this.onMessage(payload);
        this.inFlight.add(handling);
        try {
          await handling;
        } finally {
          this.inFlight.delete(handling);
        }
      },
    });
  }

  /**
   * Leaves the group after the messages in flight finished and their offsets were
   * committed. kafkajs stops committing once disconnect() begins, so the wait comes
   * first; an event still being retried is abandoned uncommitted and redelivered.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.consumer.pause(this.options.topics.map((t) => ({ topic: `${this.options.topicPrefix}${t}` })));
    await Promise.allSettled([...this.inFlight]);
    await this.consumer.disconnect();
  }

  private async onMessage(payload: EachMessagePayload): Promise<void> {
    try {
      await this.process(payload);
    } catch (error) {
      // Not committed: whoever owns the partition next receives the event again.
      if (error instanceof ConsumerStopping) return;
      throw error;
    }
  }

  private async process(payload: EachMessagePayload): Promise<void> {
    this.throwIfStopping();
    const { topic, partition, message } = payload;
    const heartbeat = () => payload.heartbeat();
    const started = Date.now();
    const delivery: DeliveryInfo = { topic, partition, offset: message.offset };
    const headers = headerStrings(message.headers);
    const incoming = { key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers };

    // Decided from the headers alone: a message meant for another group, or of a type
    // this consumer does not handle, is none of its business, whatever its value holds.
    const type = headers[EVENT_TYPE_HEADER];
    const redriveFor = headers[DeadLetterHeaders.redriveFor];
    if ((redriveFor !== undefined && redriveFor !== this.options.groupId) || (type && !this.handlesType(type))) {
      await this.commit(delivery);
      this.options.onOutcome?.('ignored', type || 'unknown', Date.now() - started);
      return;
    }

    let event: AnyEvent;
    try {
      // A message without a type cannot be routed at all: decoding refuses it and it is parked.
      event = decodeEvent(incoming);
    } catch (error) {
      await this.deadLetter(topic, incoming, error, delivery, heartbeat);
      await this.commit(delivery);
      this.options.onOutcome?.('dead-lettered', type || 'unknown', Date.now() - started);
      return;
    }

    const outcome = await this.handleWithRetries(event, delivery, heartbeat);
    if (outcome.failed) await this.deadLetter(topic, incoming, outcome.error, delivery, heartbeat, outcome.attempts);
    await this.commit(delivery);
    this.options.onOutcome?.(outcome.failed ? 'dead-lettered' : 'processed', event.type, Date.now() - started);
  }

  private async handleWithRetries(
    event: AnyEvent,
    delivery: DeliveryInfo,
    heartbeat: () => Promise<void>,
  ): Promise<{ failed: false } | { failed: true; error: unknown; attempts: number }> {
    let poisonAttempts = 0;
    for (let attempt = 1; ; attempt++) {
      this.throwIfStopping();
      try {
        await this.options.handle(event, delivery);
        return { failed: false };
      } catch (error) {
        const retriable = this.isRetriable(error);
        if (!retriable && ++poisonAttempts >= this.options.maxAttempts) return { failed: true, error, attempts: attempt };
        const delay = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** Math.min(attempt - 1, 10));
        this.options.logger?.warn(
          `${event.type} ${event.id} from ${delivery.topic}[${delivery.partition}]@${delivery.offset} failed (attempt ${attempt}, ${retriable ? 'retriable' : 'not retriable'}): ${(error as Error).message}; retrying in ${delay} ms`,
        );
        await this.pause(delay, heartbeat);
      }
    }
  }

  private handlesType(type: string): boolean {
    return isEventType(type) && this.options.handles(type);
  }

  /**
   * An error's own `retriable` flag is its retry class, set where it was made; the
   * configured classifier decides only for errors without one. kafkajs errors are
   * the exception: their flag says whether kafkajs itself may retry the request,
   * and one that gave up (`retriable: false`) is still a broker outage to us.
   */
  private isRetriable(error: unknown): boolean {
    const own = (error as { retriable?: unknown } | null)?.retriable;
    const name = (error as { name?: unknown } | null)?.name;
    const fromKafkajs = typeof name === 'string' && name.startsWith('KafkaJS');
    if (typeof own === 'boolean' && !fromKafkajs) return own;
    return this.options.isRetriable(error);
  }

  private async deadLetter(
    topic: string,
    incoming: { key: string | null; value: string | null; headers: Record<string, string | undefined> },
    error: unknown,
    delivery: DeliveryInfo,
    heartbeat: () => Promise<void>,
    attempts = 0,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(incoming.headers)) if (v !== undefined) headers[k] = v;
    Object.assign(headers, {
      [DeadLetterHeaders.error]: (error as Error)?.message ?? String(error),
      [DeadLetterHeaders.errorName]: (error as Error)?.name ?? 'Error',
      [DeadLetterHeaders.originalTopic]: topic,
      [DeadLetterHeaders.originalPartition]: String(delivery.partition),
      [DeadLetterHeaders.originalOffset]: delivery.offset,
      [DeadLetterHeaders.consumerGroup]: this.options.groupId,
      [DeadLetterHeaders.attempts]: String(attempts),
      [DeadLetterHeaders.at]: new Date().toISOString(),
    });
    const unprefixed = topic.startsWith(this.options.topicPrefix) ? topic.slice(this.options.topicPrefix.length) : topic;
    this.options.logger?.error(`parking message ${topic}[${delivery.partition}]@${delivery.offset} in ${dlqTopicOf(unprefixed)}: ${headers[DeadLetterHeaders.error]}`);
    // The dead letter must be safely stored before the offset moves past it.
    for (let attempt = 1; ; attempt++) {
      this.throwIfStopping();
      try {
        await this.options.deadLetters.send([
          { topic: dlqTopicOf(unprefixed), key: incoming.key ?? '', value: incoming.value ?? '', headers },
        ]);
        return;
      } catch (sendError) {
        this.options.logger?.warn(`dead-letter publish failed (${(sendError as Error).message}); retrying`);
        await this.pause(Math.min(this.options.maxBackoffMs, 200 * 2 ** Math.min(attempt, 5)), heartbeat);
      }
    }
  }

  private async commit({ topic, partition, offset }: DeliveryInfo): Promise<void> {
    await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
  }

  private async pause(ms: number, heartbeat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      this.throwIfStopping();
      await sleep(Math.min(1_000, until - Date.now()));
      try {
        await heartbeat();
      } catch (error) {
        // The group is rebalancing: give the partition up (uncommitted, so the event is
        // redelivered to its next owner) instead of retrying until we are evicted.
        if (REBALANCE_ERRORS.has((error as { type?: string }).type ?? '')) throw error;
      }
    }
  }

  private throwIfStopping(): void {
    // Leaving without committing: the event is redelivered to whoever takes over the partition.
    if (this.stopping) throw new ConsumerStopping('consumer is stopping');
  }
}
