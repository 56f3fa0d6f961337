import { decodeEvent, dlqTopicOf, isEventType, type AnyEvent, type EventType } from '@orderflow/contracts';
import type { LogFields, MessagingLogger } from './kafka';
import { isMarkedRetriable, type ErrorClassifier } from './errors';
import { DeadLetterHeaders, EVENT_TYPE_HEADER } from './headers';
import type { OutgoingMessage } from './publisher';

/** Where a message came from: a Kafka partition and offset, a RabbitMQ partition queue and delivery tag, an SQS queue and sequence number. */
export interface DeliveryInfo {
  /** As consumed, with the environment's prefix. */
  topic: string;
  partition: number;
  offset: string;
}

/** One decoded event of a batch, with where it came from. */
export interface ReceivedEvent {
  event: AnyEvent;
  delivery: DeliveryInfo;
}

export type ProcessOutcome = 'processed' | 'ignored' | 'dead-lettered';

/**
 * How a batch handler says which event of the batch failed. The consumer then
 * cuts the batch there: the events before it are handled again on their own (the
 * failed unit of work was rolled back), the culprit is retried alone and, if it
 * keeps failing, dead-lettered, and the rest goes on. A failure without an index
 * (e.g. the commit itself) makes the consumer go one event at a time.
 */
export class BatchFailure extends Error {
  override readonly name = 'BatchFailure';
  constructor(
    /** Position in the batch of the event that failed; undefined when no single event is to blame. */
    readonly index: number | undefined,
    override readonly cause: unknown,
  ) {
    super((cause as Error | undefined)?.message ?? String(cause), { cause });
  }
}

/** Sends dead letters; the consumer does not acknowledge past a poison event until it is parked. */
export interface DeadLetterSink {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
}

/** What a consumer of any broker is given: see each option. */
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
  /**
   * Handles consecutive events of one partition as one unit of work (one database
   * transaction), in order; the consumer acknowledges them only after it
   * resolved. Reject with a `BatchFailure` naming the event that failed so a
   * poison event costs only itself.
   */
  handleBatch: (events: readonly ReceivedEvent[]) => Promise<void>;
  /** Publishes dead letters to `<topic>.dlq`; the consumer does not acknowledge past a poison event until it is parked. */
  deadLetters: DeadLetterSink;
  /**
   * Classifies a handler failure that does not carry its own `retriable` flag
   * (errors made by our code say whether they are worth retrying; this covers
   * the driver and library errors that do not).
   */
  isRetriable?: ErrorClassifier;
  /** Attempts for a non-retriable failure before the event goes to the dead-letter topic. Default 3. */
  maxAttempts?: number;
  /** Most events in one unit of work; a larger fetch is handled in several. Default 500. */
  maxBatchSize?: number;
  /** First wait before retrying a failed batch, doubled each time. Default 100 ms. */
  initialBackoffMs?: number;
  /** Longest wait between retries. Default 5 000 ms. */
  maxBackoffMs?: number;
  /**
   * Partitions handed over at the same time. Their batches are then gathered into
   * one unit of work (one transaction, one acknowledgement for all of them) when
   * nothing in them needs to be cut out; otherwise each partition goes on its own.
   * Default 64: every partition of the fetch together.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * How long the broker may hold a fetch (long poll) open while there is nothing
   * to read. A message that arrives ends the wait at once, so this only sets how
   * often an idle consumer asks (and how long a stop may wait for the fetch in
   * flight). Default 2 000 ms.
   */
  maxWaitTimeInMs?: number;
  /**
   * Kafka: the shortest time between two offset commits of one consumer. Offsets
   * handled meanwhile are coalesced per partition into the next commit (and sent at
   * once by `stop()`); at a few hundred events a second this saves most OffsetCommit
   * requests. What a crash loses is redelivered, which the inbox absorbs. Default 250 ms.
   */
  offsetCommitIntervalMs?: number;
  /**
   * Kafka: the shortest time between the starts of two units of work of one
   * consumer. A fetch that comes sooner waits for the rest, and what arrives
   * meanwhile comes with the next fetch: under load, fewer and larger batches (a
   * transaction, a relay pass and a produce request each) for at most this much
   * more latency per hop; idle or at a trickle, a batch starts at once. 0 turns it
   * off. Default 10 ms.
   */
  minBatchIntervalMs?: number;
  /**
   * Kafka: units of work this consumer runs at the same time. The partitions of a
   * fetch are split into lanes by partition number (modulo `lanes`); each lane is
   * one unit of work (its transaction, its acknowledgement), side by side with the
   * others, so waits on the database overlap. A key lands on the same partition
   * number of every topic (they have the same partition count), so a consumer
   * whose streams and rows are keyed like its messages never writes one stream
   * from two lanes; where it does, the version conflict is retried like any
   * other. Default 1: every partition of a fetch in one unit of work.
   */
  lanes?: number;
  logger?: MessagingLogger;
  onOutcome?: (outcome: ProcessOutcome, type: string, durationMs: number) => void;
  /** Called before a failed event (or the batch it failed in) is tried again, with the event's type. */
  onRetry?: (type: string) => void;
  /** Called once per handled batch, e.g. for a batch-size histogram. */
  onBatch?: (size: number, durationMs: number) => void;
  /** Called for every request the consumer makes to the broker, with its API name (`Fetch`, `OffsetCommit`, …). */
  onRequest?: (apiName: string) => void;
}

export type ConsumerSettings = Required<
  Pick<
    EventConsumerOptions,
    | 'topicPrefix'
    | 'isRetriable'
    | 'maxAttempts'
    | 'maxBatchSize'
    | 'initialBackoffMs'
    | 'maxBackoffMs'
    | 'partitionsConsumedConcurrently'
    | 'maxWaitTimeInMs'
    | 'offsetCommitIntervalMs'
    | 'minBatchIntervalMs'
    | 'lanes'
  >
>;

const DEFAULTS: Omit<ConsumerSettings, 'isRetriable'> = {
  topicPrefix: '',
  maxAttempts: 3,
  maxBatchSize: 500,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  partitionsConsumedConcurrently: 64,
  maxWaitTimeInMs: 2_000,
  offsetCommitIntervalMs: 250,
  minBatchIntervalMs: 10,
  lanes: 1,
};

/** The one place the consumer's defaults live; a value that makes no sense is refused when the consumer is made. */
export function consumerSettings(options: EventConsumerOptions): ConsumerSettings {
  const settings: ConsumerSettings = { ...DEFAULTS, isRetriable: options.isRetriable ?? isMarkedRetriable };
  if (options.topicPrefix !== undefined) settings.topicPrefix = options.topicPrefix;
  for (const name of ['maxAttempts', 'maxBatchSize', 'initialBackoffMs', 'maxBackoffMs', 'partitionsConsumedConcurrently', 'maxWaitTimeInMs', 'offsetCommitIntervalMs', 'minBatchIntervalMs', 'lanes'] as const) {
    const value = options[name];
    if (value === undefined) continue;
    const least = name === 'minBatchIntervalMs' ? 0 : 1;
    if (!Number.isInteger(value) || value < least) throw new RangeError(`EventConsumer: ${name} must be an integer >= ${least} (got ${value})`);
    settings[name] = value;
  }
  return settings;
}

/** A message as any broker delivers it, before anything is decoded. */
export interface RawMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string | undefined>;
  delivery: DeliveryInfo;
}

/** A message of a batch, sorted out from its headers before anything is decoded. */
export type Item =
  | { kind: 'skip'; type: string }
  | { kind: 'event'; event: AnyEvent; delivery: DeliveryInfo; incoming: RawMessage }
  | { kind: 'invalid'; type: string; error: unknown; delivery: DeliveryInfo; incoming: RawMessage };

/**
 * What the consumer holds while it works on one partition's messages: a Kafka
 * partition assignment, a RabbitMQ delivery, an SQS visibility timeout.
 */
export interface Lease {
  /** Called at least every second while a retry waits: a Kafka heartbeat, an SQS visibility extension. Throws when the lease is lost. */
  keepAlive(): Promise<void>;
  /** False once the messages were taken away (partition revoked, consumer stopping): their acknowledgement must not go out. */
  owned(): boolean;
}

/** The consumer is stopping (or lost the partition): what it was doing is left unacknowledged and redelivered. */
export class ConsumerStopping extends Error {
  override readonly name = 'ConsumerStopping';
}

/** The order, correlation and trace of a message, from its headers: for a log line about it. */
export function fieldsOf(headers: Record<string, string | undefined>): LogFields {
  const fields: LogFields = {};
  if (headers['ce_subject']) fields.orderId = headers['ce_subject'];
  if (headers['ce_correlationid']) fields.correlationId = headers['ce_correlationid'];
  if (headers['ce_id']) fields.eventId = headers['ce_id'];
  if (headers['ce_type']) fields.eventType = headers['ce_type'];
  if (headers['ce_traceparent']) fields.traceparent = headers['ce_traceparent'];
  return fields;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type EventItem = Extract<Item, { kind: 'event' }>;

/**
 * What every broker's consumer does with what it received, whatever the broker:
 * sorts messages out from their headers, hands consecutive events to the handler
 * as one unit of work, retries transient failures with backoff while the lease is
 * kept, cuts a poison event out of its batch and parks it in `<topic>.dlq` with
 * the error in its headers. The broker's consumer only fetches, and acknowledges
 * what this says is settled.
 */
export class BatchProcessor {
  readonly settings: ConsumerSettings;
  private stopping = false;

  constructor(private readonly options: EventConsumerOptions) {
    this.settings = consumerSettings(options);
  }

  /** From now on, work in progress is abandoned unacknowledged at the next step. */
  stop(): void {
    this.stopping = true;
  }

  resume(): void {
    this.stopping = false;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Decided from the headers alone: a message meant for another group, or of a type this consumer does not handle, is none of its business, whatever its value holds. */
  sortOut(incoming: RawMessage): Item {
    const { headers, delivery } = incoming;
    const type = headers[EVENT_TYPE_HEADER];
    const redriveFor = headers[DeadLetterHeaders.redriveFor];
    if ((redriveFor !== undefined && redriveFor !== this.options.groupId) || (type && !this.handlesType(type))) {
      return { kind: 'skip', type: type || 'unknown' };
    }
    try {
      // A message without a type cannot be routed at all: decoding refuses it and it is parked.
      return { kind: 'event', event: decodeEvent(incoming), delivery, incoming };
    } catch (error) {
      return { kind: 'invalid', type: type || 'unknown', error, delivery, incoming };
    }
  }

  /**
   * Tries messages of several partitions as one unit of work, once. True when it
   * committed (everything may be acknowledged); false when the caller must go
   * partition by partition with `process`, where poison is cut out (nothing was
   * committed). Only a clean gathering is tried: no undecodable message, within
   * the batch size.
   */
  async together(items: readonly Item[]): Promise<boolean> {
    const events = items.filter((i): i is EventItem => i.kind === 'event');
    if (items.some((i) => i.kind === 'invalid') || events.length > this.settings.maxBatchSize) return false;
    const started = Date.now();
    try {
      this.throwIfStopping();
      if (events.length > 0) await this.options.handleBatch(events.map(({ event, delivery }) => ({ event, delivery })));
    } catch (error) {
      if (error instanceof ConsumerStopping) throw error;
      this.options.logger?.warn(`a gathered batch of ${events.length} events failed (${(error as Error).message}); handling each partition on its own`);
      return false;
    }
    const ms = Date.now() - started;
    if (events.length > 0) this.options.onBatch?.(events.length, ms);
    for (const item of items) {
      if (item.kind === 'skip') this.options.onOutcome?.('ignored', item.type, 0);
      else if (item.kind === 'event') this.options.onOutcome?.('processed', item.event.type, ms / Math.max(1, events.length));
    }
    return true;
  }

  /**
   * Handles one partition's messages in runs: consecutive events go to the handler
   * together (at most `maxBatchSize`), a message that cannot be decoded is parked
   * between runs. `settled(index)` is called each time every message up to
   * `index` is done (handled, skipped or parked), for the caller to acknowledge.
   */
  async process(items: readonly Item[], lease: Lease, settled: (index: number) => void): Promise<void> {
    let start = 0;
    let events = 0;
    for (let index = 0; index < items.length; index++) {
      this.throwIfStopping();
      if (items[index]!.kind !== 'skip') events++;
      if (events < this.settings.maxBatchSize && index < items.length - 1) continue;
      if (!lease.owned()) throw new ConsumerStopping('partition revoked or consumer stopping');
      await this.handleRun(items.slice(start, index + 1), lease);
      settled(index);
      start = index + 1;
      events = 0;
    }
  }

  private async handleRun(items: readonly Item[], lease: Lease): Promise<void> {
    let rest = items;
    while (rest.length > 0) {
      const first = rest[0]!;
      if (first.kind === 'skip') {
        this.options.onOutcome?.('ignored', first.type, 0);
        rest = rest.slice(1);
        continue;
      }
      if (first.kind === 'invalid') {
        await this.deadLetter(first.incoming, first.error, lease);
        this.options.onOutcome?.('dead-lettered', first.type, 0);
        rest = rest.slice(1);
        continue;
      }
      const end = rest.findIndex((item) => item.kind !== 'event');
      const events = (end < 0 ? rest : rest.slice(0, end)) as EventItem[];
      rest = rest.slice(await this.handleEvents(events, lease));
    }
  }

  /**
   * Hands `items` to the handler as one unit of work, retrying while the failure is
   * transient. Returns how many of them are done (handled or dead-lettered): all of
   * them, or, when a poison event cut the batch, those before it, or the culprit.
   */
  private async handleEvents(items: EventItem[], lease: Lease, failedBefore = 0): Promise<number> {
    let attempts = failedBefore;
    let poisonAttempts = failedBefore;
    for (;;) {
      this.throwIfStopping();
      attempts++;
      const started = Date.now();
      try {
        await this.options.handleBatch(items.map(({ event, delivery }) => ({ event, delivery })));
        const ms = Date.now() - started;
        this.options.onBatch?.(items.length, ms);
        for (const { event } of items) this.options.onOutcome?.('processed', event.type, ms / items.length);
        return items.length;
      } catch (error) {
        const failure = error instanceof BatchFailure ? error : new BatchFailure(undefined, error);
        const retriable = this.isRetriable(failure.cause);
        if (!retriable && items.length > 1) {
          // Cut the batch: a rolled-back unit of work must not keep the others waiting.
          if (failure.index === undefined) return this.handleEvents(items.slice(0, 1), lease);
          if (failure.index > 0) {
            const index = failure.index;
            const done = await this.handleEvents(items.slice(0, index), lease);
            // The culprit is known: it goes next, alone, with this failure counted.
            return done < index ? done : done + (await this.handleEvents(items.slice(index, index + 1), lease, 1));
          }
          items = items.slice(0, 1);
        }
        const culprit = items[0]!;
        if (!retriable && ++poisonAttempts >= this.settings.maxAttempts) {
          await this.deadLetter(culprit.incoming, failure.cause, lease, attempts);
          this.options.onOutcome?.('dead-lettered', culprit.event.type, Date.now() - started);
          return 1;
        }
        const delay = Math.min(this.settings.maxBackoffMs, this.settings.initialBackoffMs * 2 ** Math.min(attempts - 1, 10));
        const { delivery } = culprit;
        this.options.onRetry?.(culprit.event.type);
        this.options.logger?.warn(
          `${items.length === 1 ? `${culprit.event.type} ${culprit.event.id}` : `a batch of ${items.length} events`} from ${delivery.topic}[${delivery.partition}]@${delivery.offset} failed (attempt ${attempts}, ${retriable ? 'retriable' : 'not retriable'}): ${failure.message}; retrying in ${delay} ms`,
          items.length === 1 ? fieldsOf(culprit.incoming.headers) : undefined,
        );
        await this.pause(delay, lease);
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
    return this.settings.isRetriable(error);
  }

  private async deadLetter(incoming: RawMessage, error: unknown, lease: Lease, attempts = 0): Promise<void> {
    const { delivery } = incoming;
    const { topic } = delivery;
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
    const prefix = this.settings.topicPrefix;
    const unprefixed = topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
    this.options.logger?.error(
      `parking message ${topic}[${delivery.partition}]@${delivery.offset} in ${dlqTopicOf(unprefixed)}: ${headers[DeadLetterHeaders.error]}`,
      fieldsOf(incoming.headers),
    );
    // The dead letter must be safely stored before the consumer acknowledges past it.
    for (let attempt = 1; ; attempt++) {
      this.throwIfStopping();
      try {
        await this.options.deadLetters.send([{ topic: dlqTopicOf(unprefixed), key: incoming.key ?? '', value: incoming.value ?? '', headers }]);
        return;
      } catch (sendError) {
        this.options.logger?.warn(`dead-letter publish failed (${(sendError as Error).message}); retrying`);
        await this.pause(Math.min(this.settings.maxBackoffMs, 200 * 2 ** Math.min(attempt, 5)), lease);
      }
    }
  }

  private async pause(ms: number, lease: Lease): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      this.throwIfStopping();
      await sleep(Math.min(1_000, until - Date.now()));
      await lease.keepAlive();
    }
  }

  private throwIfStopping(): void {
    // Leaving without acknowledging: the event is redelivered to whoever takes over.
    if (this.stopping) throw new ConsumerStopping('consumer is stopping');
  }
}
