import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { BatchProcessor, ConsumerStopping, type EventConsumerOptions, type Item, type Lease } from './batch-processor';
import { headerStrings } from './headers';

export {
  BatchFailure,
  type DeliveryInfo,
  type EventConsumerOptions,
  type ProcessOutcome,
  type ReceivedEvent,
} from './batch-processor';

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

interface Member {
  payload: EachBatchPayload;
  items: Item[];
  done: Deferred;
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
 * they were handed over, coalesced per partition while a commit is on the wire and
 * for at least `intervalMs` after the last one (a commit ahead of a fetch on the
 * broker's connection also delays that fetch). Only offsets whose events are
 * committed in the database are handed over, so a commit that fails (a rebalance)
 * or never went out (a crash) means redelivery, which the inbox absorbs, never a
 * lost event.
 */
class OffsetCommitter {
  private readonly pending = new Map<string, PartitionOffset>();
  private running: Promise<void> | undefined;
  private lastSentAt = -Infinity;
  private wait: { timer: NodeJS.Timeout; done: () => void } | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly intervalMs: number,
    private readonly logger: EventConsumerOptions['logger'],
  ) {}

  commit(offsets: readonly PartitionOffset[]): void {
    for (const o of offsets) this.pending.set(`${o.topic}|${o.partition}`, o);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Sends what is pending now, without waiting out the interval, and resolves once everything handed over so far was sent (or failed). */
  async flush(): Promise<void> {
    while (this.running) {
      this.endWait();
      await this.running;
    }
  }

  private endWait(): void {
    const wait = this.wait;
    this.wait = undefined;
    if (!wait) return;
    clearTimeout(wait.timer);
    wait.done();
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const due = this.lastSentAt + this.intervalMs - Date.now();
      if (due > 0) await new Promise<void>((done) => (this.wait = { timer: setTimeout(() => this.endWait(), due), done }));
      const offsets = [...this.pending.values()];
      this.pending.clear();
      this.lastSentAt = Date.now();
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
 * At-least-once consumption from Kafka with exactly-once effect (the handler's
 * inbox), a batch at a time: a fetch's events are handed to `handleBatch` as one
 * unit of work and their offsets committed once, after it resolved. What happens
 * to a failing or invalid event is the shared `BatchProcessor`'s: retried with
 * backoff while the partition waits (heartbeats going on), cut out of its batch
 * and parked in `<topic>.dlq` with the error in its headers.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly processor: BatchProcessor;
  /** Partition batches of the current fetch waiting to be handled together. */
  private gathering: Member[] = [];
  /** When the last unit of work started (`performance.now()`), for `minBatchIntervalMs`. */
  private lastStartedAt = -Infinity;
  private readonly offsets: OffsetCommitter;

  constructor(
    kafka: Kafka,
    private readonly options: EventConsumerOptions,
  ) {
    this.processor = new BatchProcessor(options);
    const { settings } = this.processor;
    this.consumer = kafka.consumer({
      groupId: `${settings.topicPrefix}${options.groupId}`,
      allowAutoTopicCreation: false,
      // A member that vanished (crash, broker restart) is evicted after the session
      // timeout; a rebalance waits at most the rebalance timeout for the others.
      sessionTimeout: 15_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: settings.maxWaitTimeInMs,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    this.offsets = new OffsetCommitter(this.consumer, settings.offsetCommitIntervalMs, options.logger);
    // A rebalance is about to move partitions: what this member handled is committed now, not redelivered to the next owner.
    this.consumer.on(this.consumer.events.REBALANCING, () => void this.offsets.flush());
    const onRequest = options.onRequest;
    if (onRequest) this.consumer.on(this.consumer.events.REQUEST, (e) => onRequest(e.payload.apiName));
  }

  private get prefixedTopics(): string[] {
    return this.options.topics.map((t) => `${this.processor.settings.topicPrefix}${t}`);
  }

  async start(): Promise<void> {
    this.processor.resume();
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.prefixedTopics,
      // A group seen for the first time starts at the beginning: events published
      // before this service ever ran are still its to handle.
      fromBeginning: true,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.processor.settings.partitionsConsumedConcurrently,
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
    this.processor.stop();
    this.consumer.pause(this.prefixedTopics.map((topic) => ({ topic })));
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
   * arrive in the same turn of the event loop are handled as one unit of work
   * (one per lane when `lanes` > 1, the lanes side by side).
   * Only a clean gathering (no undecodable message, within the batch size, and a
   * handler that succeeds) goes together: anything else, and any failure, sends
   * each partition back through `process` on its own, where poison is cut out.
   */
  private async gather(payload: EachBatchPayload): Promise<void> {
    if (this.processor.isStopping) throw new ConsumerStopping('consumer is stopping');
    const { topic, partition } = payload.batch;
    const items = payload.batch.messages.map((message) => this.sortOut(topic, partition, message));
    const done = deferred();
    this.gathering.push({ payload, items, done });
    if (this.gathering.length === 1) {
      // The partitions of this fetch arrive in the same turn; a unit of work starts no sooner than minBatchIntervalMs after the last.
      const wait = this.lastStartedAt + this.processor.settings.minBatchIntervalMs - performance.now();
      if (wait > 0) setTimeout(() => void this.handleGathered(), wait);
      else setImmediate(() => void this.handleGathered());
    }
    return done.promise;
  }

  private async handleGathered(): Promise<void> {
    this.lastStartedAt = performance.now();
    const members = this.gathering;
    this.gathering = [];
    const { lanes } = this.processor.settings;
    if (lanes === 1 || members.length === 1) return this.handleLane(members);
    // Partitions with the same number (modulo lanes) of every topic go together; the lanes run side by side.
    const byLane = new Map<number, Member[]>();
    for (const member of members) {
      const lane = member.payload.batch.partition % lanes;
      const same = byLane.get(lane);
      if (same) same.push(member);
      else byLane.set(lane, [member]);
    }
    await Promise.all([...byLane.values()].map((lane) => this.handleLane(lane)));
  }

  /** One lane's partitions as one unit of work when they go cleanly together, otherwise each on its own. */
  private async handleLane(members: Member[]): Promise<void> {
    if (members.length > 1) {
      let together: boolean;
      try {
        together = await this.processor.together(members.flatMap((m) => m.items));
      } catch (error) {
        for (const member of members) member.done.reject(error);
        return;
      }
      if (together) {
        // One request for every partition still ours; a revoked one is redelivered to its new owner (the inbox absorbs it).
        const current = members.filter((m) => m.payload.isRunning() && !m.payload.isStale() && m.payload.batch.messages.length > 0);
        this.offsets.commit(
          current.map(({ payload }) => ({ topic: payload.batch.topic, partition: payload.batch.partition, offset: (BigInt(payload.batch.lastOffset()) + 1n).toString() })),
        );
        for (const { payload } of current) payload.resolveOffset(payload.batch.lastOffset());
        for (const member of members) member.done.resolve();
        return;
      }
    }
    // One partition at a time, in the order they came: the path that cuts poison out.
    for (const member of members) {
      await this.process(member.payload, member.items).then(
        () => member.done.resolve(),
        (error: unknown) => member.done.reject(error),
      );
    }
  }

  /** Handles one partition's batch, committing each run's offsets (with those of the messages skipped in it) once it is done. */
  private async process(payload: EachBatchPayload, items: Item[]): Promise<void> {
    const { batch } = payload;
    const lease: Lease = {
      owned: () => payload.isRunning() && !payload.isStale(),
      keepAlive: async () => {
        try {
          await payload.heartbeat();
        } catch (error) {
          // The group is rebalancing: give the partition up (uncommitted, so the event is
          // redelivered to its next owner) instead of retrying until we are evicted.
          if (REBALANCE_ERRORS.has((error as { type?: string }).type ?? '')) throw error;
        }
      },
    };
    await this.processor.process(items, lease, (index) => {
      const offset = batch.messages[index]!.offset;
      this.offsets.commit([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }]);
      payload.resolveOffset(offset);
    });
  }

  private sortOut(topic: string, partition: number, message: KafkaMessage): Item {
    return this.processor.sortOut({
      key: message.key?.toString() ?? null,
      value: message.value?.toString() ?? null,
      headers: headerStrings(message.headers),
      delivery: { topic, partition, offset: message.offset },
    });
  }
}
