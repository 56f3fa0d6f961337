import { decodeEvent, dlqTopicOf, isEventType, type AnyEvent, type EventType } from '@orderflow/contracts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { LogFields, MessagingLogger } from './kafka';
import type { KafkaPublisher } from './publisher';
import { isMarkedRetriable, type ErrorClassifier } from './errors';
import { DeadLetterHeaders, EVENT_TYPE_HEADER, headerStrings } from './headers';

export interface DeliveryInfo {
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
   * transaction), in order; the consumer commits their offsets only after it
   * resolved. Reject with a `BatchFailure` naming the event that failed so a
   * poison event costs only itself.
   */
  handleBatch: (events: readonly ReceivedEvent[]) => Promise<void>;
  /** Publishes dead letters; the consumer does not commit past a poison event until it is parked. */
  deadLetters: KafkaPublisher;
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
   * Partitions of one fetch handed over at the same time. Their batches are then
   * gathered into one unit of work (one transaction, one offset commit for all of
   * them) when nothing in them needs to be cut out; otherwise each partition goes
   * on its own. Default 64: every partition of the fetch together.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * How long the broker may hold a fetch open while there is nothing to read. A
   * message that arrives ends the wait at once, so this only sets how often an idle
   * consumer asks (and how long a stop may wait for the fetch in flight). Default 2 000 ms.
   */
  maxWaitTimeInMs?: number;
  logger?: MessagingLogger;
  onOutcome?: (outcome: ProcessOutcome, type: string, durationMs: number) => void;
  /** Called before a failed event (or the batch it failed in) is tried again, with the event's type. */
  onRetry?: (type: string) => void;
  /** Called once per handled batch, e.g. for a batch-size histogram. */
  onBatch?: (size: number, durationMs: number) => void;
  /** Called for every request the consumer makes to the broker, with its API name (`Fetch`, `OffsetCommit`, …). */
  onRequest?: (apiName: string) => void;
}

type Settings = Required<
  Pick<EventConsumerOptions, 'topicPrefix' | 'isRetriable' | 'maxAttempts' | 'maxBatchSize' | 'initialBackoffMs' | 'maxBackoffMs' | 'partitionsConsumedConcurrently' | 'maxWaitTimeInMs'>
>;

const DEFAULTS: Omit<Settings, 'isRetriable'> = {
  topicPrefix: '',
  maxAttempts: 3,
  maxBatchSize: 500,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  partitionsConsumedConcurrently: 64,
  maxWaitTimeInMs: 2_000,
};

/** The one place the consumer's defaults live; a value that makes no sense is refused when the consumer is made. */
function settingsOf(options: EventConsumerOptions): Settings {
  const settings: Settings = { ...DEFAULTS, isRetriable: options.isRetriable ?? isMarkedRetriable };
  if (options.topicPrefix !== undefined) settings.topicPrefix = options.topicPrefix;
  for (const name of ['maxAttempts', 'maxBatchSize', 'initialBackoffMs', 'maxBackoffMs', 'partitionsConsumedConcurrently', 'maxWaitTimeInMs'] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`EventConsumer: ${name} must be an integer >= 1 (got ${value})`);
    settings[name] = value;
  }
  return settings;
}

interface Incoming {
  key: string | null;
  value: string | null;
  headers: Record<string, string | undefined>;
}

/** A message of a batch, sorted out from its headers before anything is decoded. */
type Item =
  | { kind: 'skip'; type: string }
  | { kind: 'event'; event: AnyEvent; delivery: DeliveryInfo; incoming: Incoming }
  | { kind: 'invalid'; type: string; error: unknown; delivery: DeliveryInfo; incoming: Incoming };

/** The order, correlation and trace of a message, from its headers: for a log line about it. */
function fieldsOf(headers: Record<string, string | undefined>): LogFields {
  const fields: LogFields = {};
  if (headers['ce_subject']) fields.orderId = headers['ce_subject'];
  if (headers['ce_correlationid']) fields.correlationId = headers['ce_correlationid'];
  if (headers['ce_id']) fields.eventId = headers['ce_id'];
  if (headers['ce_type']) fields.eventType = headers['ce_type'];
  if (headers['ce_traceparent']) fields.traceparent = headers['ce_traceparent'];
  return fields;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const REBALANCE_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

class ConsumerStopping extends Error {
  override readonly name = 'ConsumerStopping';
}

interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Commits offsets behind the consumer instead of in its way: kafkajs fetches again
 * only once the batches of the last fetch returned, so an awaited OffsetCommit
 * would add a round trip to the path of every event. Offsets go out in the order
 * they were handed over, coalesced per partition while a commit is on the wire.
 * Only offsets whose events are committed in the database are handed over, so a
 * commit that fails (a rebalance) or never went out (a crash) means redelivery,
 * which the inbox absorbs, never a lost event.
 */
class OffsetCommitter {
  private readonly pending = new Map<string, PartitionOffset>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly logger: EventConsumerOptions['logger'],
  ) {}

  commit(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) this.pending.set(`${o.topic}|${o.partition}`, o);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once everything handed over so far was sent (or failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const offsets = [...this.pending.values()];
      this.pending.clear();
      try {
        await this.consumer.commitOffsets(offsets);
      } catch (error) {
        // Not retried: the partition's next commit carries a later offset, and without
        // one its events are redelivered to whoever owns it next.
        this.logger?.warn(`offset commit failed (${(error as Error).message}); those events may be delivered again`);
      }
    }
  }
}

/**
 * At-least-once consumption with exactly-once effect (the handler's inbox), a
 * batch at a time: a fetch's events are handed to `handleBatch` as one unit of
 * work and their offsets committed once, after it resolved. Transient failures are
 * retried with backoff while the partition waits; an invalid or repeatedly
 * failing event is cut out of its batch and parked in `<topic>.dlq` with the error
 * in its headers.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly settings: Settings;
  /** Partition batches of the current fetch waiting to be handled together. */
  private gathering: { payload: EachBatchPayload; items: Item[]; done: Deferred }[] = [];
  private readonly offsets: OffsetCommitter;

  constructor(
    kafka: Kafka,
    private readonly options: EventConsumerOptions,
  ) {
    this.settings = settingsOf(options);
    this.consumer = kafka.consumer({
      groupId: `${this.settings.topicPrefix}${options.groupId}`,
      allowAutoTopicCreation: false,
      // A member that vanished (crash, broker restart) is evicted after the session
      // timeout; a rebalance waits at most the rebalance timeout for the others.
      sessionTimeout: 15_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: this.settings.maxWaitTimeInMs,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.offsets = new OffsetCommitter(this.consumer, options.logger);
    const onRequest = options.onRequest;
    if (onRequest) this.consumer.on(this.consumer.events.REQUEST, (e) => onRequest(e.payload.apiName));
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.options.topics.map((t) => `${this.settings.topicPrefix}${t}`),
      // A group seen for the first time starts at the beginning: events published
      // before this service ever ran are still its to handle.
      fromBeginning: true,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        const handling = this.onBatch(payload);
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
   * Leaves the group after the batches in flight finished and their offsets were
   * committed. kafkajs stops committing once disconnect() begins, so the wait comes
   * first; a batch still being retried is abandoned uncommitted and redelivered.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.consumer.pause(this.options.topics.map((t) => ({ topic: `${this.settings.topicPrefix}${t}` })));
    await Promise.allSettled([...this.inFlight]);
    await this.offsets.flush();
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    try {
      await this.gather(payload);
    } catch (error) {
      // Not committed: whoever owns the partition next receives those events again.
      if (error instanceof ConsumerStopping) return;
      throw error;
    }
  }

  /**
   * kafkajs hands over the partitions of one fetch at the same time; those that
   * arrive in the same turn of the event loop are handled as one unit of work.
   * Only a clean gathering (no undecodable message, within the batch size, and a
   * handler that succeeds) goes together: anything else, and any failure, sends
   * each partition back through `process` on its own, where poison is cut out.
   */
  private async gather(payload: EachBatchPayload): Promise<void> {
    this.throwIfStopping();
    const { topic, partition } = payload.batch;
    const items = payload.batch.messages.map((message) => this.sortOut(topic, partition, message));
    const done = deferred();
    this.gathering.push({ payload, items, done });
    if (this.gathering.length === 1) setImmediate(() => void this.handleGathered());
    return done.promise;
  }

  private async handleGathered(): Promise<void> {
    const members = this.gathering;
    this.gathering = [];
    const events = members.flatMap((m) => m.items.filter((i): i is Extract<Item, { kind: 'event' }> => i.kind === 'event'));
    const clean = members.every((m) => m.items.every((i) => i.kind !== 'invalid')) && events.length <= this.settings.maxBatchSize;
    let together = false;
    if (clean && members.length > 1) {
      const started = Date.now();
      try {
        this.throwIfStopping();
        if (events.length > 0) await this.options.handleBatch(events.map(({ event, delivery }) => ({ event, delivery })));
        together = true;
        const ms = Date.now() - started;
        if (events.length > 0) this.options.onBatch?.(events.length, ms);
        for (const member of members) {
          for (const item of member.items) {
            if (item.kind === 'skip') this.options.onOutcome?.('ignored', item.type, 0);
            else if (item.kind === 'event') this.options.onOutcome?.('processed', item.event.type, ms / Math.max(1, events.length));
          }
        }
        // One request for every partition still ours; a revoked one is redelivered to its new owner (the inbox absorbs it).
        const current = members.filter((m) => m.payload.isRunning() && !m.payload.isStale() && m.payload.batch.messages.length > 0);
        this.offsets.commit(
          current.map(({ payload }) => ({ topic: payload.batch.topic, partition: payload.batch.partition, offset: (BigInt(payload.batch.lastOffset()) + 1n).toString() })),
        );
        for (const { payload } of current) payload.resolveOffset(payload.batch.lastOffset());
      } catch (error) {
        if (error instanceof ConsumerStopping) {
          for (const member of members) member.done.reject(error);
          return;
        }
        if (!together) this.options.logger?.warn(`a gathered batch of ${events.length} events from ${members.length} partitions failed (${(error as Error).message}); handling each partition on its own`);
        else {
          for (const member of members) member.done.reject(error);
          return;
        }
      }
    }
    for (const member of members) {
      if (together) {
        member.done.resolve();
        continue;
      }
      // One partition at a time, in the order they came: the path that cuts poison out.
      await this.process(member.payload, member.items).then(
        () => member.done.resolve(),
        (error: unknown) => member.done.reject(error),
      );
    }
  }

  /**
   * Sorts the fetch out from its headers, then handles it in runs: consecutive
   * events go to the handler together, a message that cannot be decoded is parked
   * between runs, and each run's offsets (with those of the messages skipped in
   * it) are committed once it is done.
   */
  private async process(payload: EachBatchPayload, sorted?: Item[]): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const heartbeat = () => payload.heartbeat();
    let run: Item[] = [];
    let events = 0;
    let last: string | undefined;
    const flush = async () => {
      if (last === undefined) return;
      if (!payload.isRunning() || payload.isStale()) throw new ConsumerStopping('partition revoked or consumer stopping');
      await this.handleRun(run, heartbeat);
      this.commit({ topic, partition, offset: last });
      payload.resolveOffset(last);
      run = [];
      events = 0;
      last = undefined;
    };
    for (const [index, message] of batch.messages.entries()) {
      this.throwIfStopping();
      const item = sorted?.[index] ?? this.sortOut(topic, partition, message);
      run.push(item);
      if (item.kind !== 'skip') events++;
      last = message.offset;
      if (events >= this.settings.maxBatchSize) await flush();
    }
    await flush();
  }

  private sortOut(topic: string, partition: number, message: KafkaMessage): Item {
    const delivery: DeliveryInfo = { topic, partition, offset: message.offset };
    const headers = headerStrings(message.headers);
    // Decided from the headers alone: a message meant for another group, or of a type
    // this consumer does not handle, is none of its business, whatever its value holds.
    const type = headers[EVENT_TYPE_HEADER];
    const redriveFor = headers[DeadLetterHeaders.redriveFor];
    if ((redriveFor !== undefined && redriveFor !== this.options.groupId) || (type && !this.handlesType(type))) {
      return { kind: 'skip', type: type || 'unknown' };
    }
    const incoming = { key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers };
    try {
      // A message without a type cannot be routed at all: decoding refuses it and it is parked.
      return { kind: 'event', event: decodeEvent(incoming), delivery, incoming };
    } catch (error) {
      return { kind: 'invalid', type: type || 'unknown', error, delivery, incoming };
    }
  }

  private async handleRun(items: readonly Item[], heartbeat: () => Promise<void>): Promise<void> {
    let rest = items;
    while (rest.length > 0) {
      const first = rest[0]!;
      if (first.kind === 'skip') {
        this.options.onOutcome?.('ignored', first.type, 0);
        rest = rest.slice(1);
        continue;
      }
      if (first.kind === 'invalid') {
        await this.deadLetter(first.incoming, first.error, first.delivery, heartbeat);
        this.options.onOutcome?.('dead-lettered', first.type, 0);
        rest = rest.slice(1);
        continue;
      }
      const end = rest.findIndex((item) => item.kind !== 'event');
      const events = (end < 0 ? rest : rest.slice(0, end)) as Extract<Item, { kind: 'event' }>[];
      rest = rest.slice(await this.handleEvents(events, heartbeat));
    }
  }

  /**
   * Hands `items` to the handler as one unit of work, retrying while the failure is
   * transient. Returns how many of them are done (handled or dead-lettered): all of
   * them, or, when a poison event cut the batch, those before it, or the culprit.
   */
  private async handleEvents(items: Extract<Item, { kind: 'event' }>[], heartbeat: () => Promise<void>, failedBefore = 0): Promise<number> {
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
          if (failure.index === undefined) return this.handleEvents(items.slice(0, 1), heartbeat);
          if (failure.index > 0) {
            const index = failure.index;
            const done = await this.handleEvents(items.slice(0, index), heartbeat);
            // The culprit is known: it goes next, alone, with this failure counted.
            return done < index ? done : done + (await this.handleEvents(items.slice(index, index + 1), heartbeat, 1));
          }
          items = items.slice(0, 1);
        }
        const culprit = items[0]!;
        if (!retriable && ++poisonAttempts >= this.settings.maxAttempts) {
          await this.deadLetter(culprit.incoming, failure.cause, culprit.delivery, heartbeat, attempts);
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
    return this.settings.isRetriable(error);
  }

  private async deadLetter(
    incoming: Incoming,
    error: unknown,
    delivery: DeliveryInfo,
    heartbeat: () => Promise<void>,
    attempts = 0,
  ): Promise<void> {
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
        await this.pause(Math.min(this.settings.maxBackoffMs, 200 * 2 ** Math.min(attempt, 5)), heartbeat);
      }
    }
  }

  private commit({ topic, partition, offset }: DeliveryInfo): void {
    this.offsets.commit([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
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
