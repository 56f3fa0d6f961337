import { setTimeout as sleep } from 'node:timers/promises';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { BatchProcessor, ConsumerStopping, type EventConsumerOptions, type Item, type Lease } from '../batch-processor';
import type { MessagingLogger } from '../kafka';
import type { Subscriber } from '../transport';
import { toSqsBrokerError } from './errors';
import { changeVisibility, deleteMessages, receive } from './queue-ops';
import type { QueueUrls, SqsTopology } from './topology';
import { decodeMessage } from './wire';

export interface SqsSubscriberSettings {
  visibilityTimeoutSeconds: number;
  /** Concurrent long polls per queue. */
  receivers: number;
}

interface QueueRef {
  name: string;
  url: string;
  /** The topic as delivered to the handler: with the environment's prefix. */
  topic: string;
}

/** A receive waiting for its turn; settled once it was handled (or abandoned). */
interface Gathered {
  batch: ReceivedBatch;
  items: Item[];
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The messages of one receive while they are ours: SQS hides them from every other
 * receiver for the visibility timeout, and FIFO holds back the rest of their
 * message groups until they are deleted or visible again. The lease is extended
 * every third of the timeout while they are held (a slow handler, a batch being
 * retried), deletes what the processor settled, in order, and gives the rest back
 * when the consumer stops.
 */
class ReceivedBatch implements Lease {
  private settledCount = 0;
  private extendedAt: number;
  private deadline: number;
  private lost = false;
  private ops: Promise<void> = Promise.resolve();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly client: SQSClient,
    readonly queue: QueueRef,
    readonly messages: readonly Message[],
    /** When the receive was sent: the visibility timeout runs from about then. */
    receivedAt: number,
    private readonly timeoutMs: number,
    private readonly isStopping: () => boolean,
    private readonly logger: MessagingLogger | undefined,
  ) {
    this.extendedAt = receivedAt;
    this.deadline = receivedAt + timeoutMs;
    this.heartbeat = setInterval(() => void this.extendIfDue(), Math.max(100, Math.floor(timeoutMs / 6)));
    this.heartbeat.unref();
  }

  owned(): boolean {
    return !this.isStopping() && !this.lost && Date.now() < this.deadline;
  }

  async keepAlive(): Promise<void> {
    if (this.lost || Date.now() >= this.deadline) throw new ConsumerStopping(`the visibility timeout of messages from ${this.queue.name} ran out: they are redelivered`);
    await this.extendIfDue();
  }

  /** Deletes the messages up to `index` (the processor settled them: handled, skipped or parked). */
  settle(index: number): void {
    const upTo = Math.min(index + 1, this.messages.length);
    if (upTo <= this.settledCount) return;
    const done = this.messages.slice(this.settledCount, upTo);
    this.settledCount = upTo;
    void this.enqueue(async () => {
      try {
        const failed = await deleteMessages(this.client, this.queue.url, done);
        if (failed.length > 0) this.logger?.warn(`${failed.length} message(s) handled from ${this.queue.name} could not be deleted (${failed[0]!.Code}); they will be delivered again`);
      } catch (error) {
        this.logger?.warn(`deleting handled messages from ${this.queue.name} failed (${(error as Error).message}); they will be delivered again`);
      }
    });
  }

  /** Makes what was not settled visible again now, for the next receiver, instead of after the timeout. */
  release(): void {
    const rest = this.messages.slice(this.settledCount);
    this.settledCount = this.messages.length;
    if (rest.length === 0 || this.lost) return;
    void this.enqueue(async () => {
      await changeVisibility(this.client, this.queue.url, rest, 0).catch(() => undefined);
    });
  }

  /** Stops extending and waits for the deletes and releases handed over. */
  async finish(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.ops;
  }

  private extendIfDue(): Promise<void> {
    if (Date.now() - this.extendedAt < this.timeoutMs / 3 || this.settledCount >= this.messages.length) return this.ops;
    return this.enqueue(() => this.extend());
  }

  private async extend(): Promise<void> {
    const pending = this.messages.slice(this.settledCount);
    if (pending.length === 0 || this.lost || Date.now() - this.extendedAt < this.timeoutMs / 3) return;
    const at = Date.now();
    try {
      const failed = await changeVisibility(this.client, this.queue.url, pending, Math.ceil(this.timeoutMs / 1000));
      if (failed.length > 0) {
        // The receipt is no longer valid (the timeout ran out and someone else received them).
        this.lost = true;
        this.logger?.warn(`lost ${failed.length} message(s) from ${this.queue.name} (${failed[0]!.Code}): they are redelivered`);
        return;
      }
      this.extendedAt = at;
      this.deadline = at + this.timeoutMs;
    } catch (error) {
      this.logger?.warn(`extending the visibility of messages from ${this.queue.name} failed (${(error as Error).message}); trying again`);
    }
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    this.ops = this.ops.then(op);
    return this.ops;
  }
}

/**
 * At-least-once consumption of a group's SQS FIFO queues (one per topic) with
 * exactly-once effect (the handler's inbox). Each queue has `receivers` long polls
 * running; what arrives in the same turn of the event loop (or while the last
 * unit of work ran) is handed to the shared `BatchProcessor` as one unit of work,
 * as Kafka's consumer does with a fetch's partitions. FIFO gives a receive a message group's messages in order
 * and hands none of that group to anyone else until they are deleted, so a key's
 * order holds across receivers and instances. Messages are deleted only once the
 * processor settled them.
 */
export class SqsSubscriber implements Subscriber {
  private readonly processor: BatchProcessor;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();
  private gathering: Gathered[] = [];
  private draining = false;
  /** Batches left unhandled by stop(), given back once every long poll ended. */
  private abandoned: ReceivedBatch[] = [];

  constructor(
    private readonly client: SQSClient,
    private readonly urls: QueueUrls,
    private readonly topology: SqsTopology,
    private readonly options: EventConsumerOptions,
    private readonly settings: SqsSubscriberSettings,
  ) {
    this.processor = new BatchProcessor(options);
  }

  private get waitSeconds(): number {
    return Math.min(20, Math.max(1, Math.round(this.processor.settings.maxWaitTimeInMs / 1000)));
  }

  async start(): Promise<void> {
    if (this.loops.length > 0) return;
    const queues: QueueRef[] = [];
    for (const topic of this.options.topics) {
      const name = this.topology.groupQueue(this.options.groupId, topic);
      try {
        queues.push({ name, url: await this.urls.get(name), topic: this.topology.prefixed(topic) });
      } catch (error) {
        throw toSqsBrokerError(error, `group ${this.options.groupId} reading ${topic} (is it in SUBSCRIPTIONS, and did setUp run?)`);
      }
    }
    this.processor.resume();
    this.abort = new AbortController();
    this.loops = queues.flatMap((queue) => Array.from({ length: this.settings.receivers }, () => this.poll(queue)));
  }

  /**
   * Stops receiving, lets the batches being handled finish and deletes them, gives
   * back what was received but not handled, then returns. Long polls in flight are
   * left to end (at most `maxWaitTimeInMs`) rather than aborted: an aborted poll goes
   * on waiting on the server and takes what arrives into a connection nobody reads,
   * hidden for a whole visibility timeout from the instance that takes over.
   */
  async stop(): Promise<void> {
    this.processor.stop();
    this.abort.abort();
    await Promise.allSettled(this.loops);
    this.loops = [];
    const abandoned = this.abandoned.splice(0);
    for (const batch of abandoned) batch.release();
    await Promise.all(abandoned.map((batch) => batch.finish()));
  }

  private async poll(queue: QueueRef): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!this.processor.isStopping) {
      const receivedAt = Date.now();
      let messages: Message[];
      try {
        // The timeout asked for on each receive, whatever the queue's attribute says (another tool may have created the queue).
        messages = await receive(this.client, queue.url, { waitSeconds: this.waitSeconds, visibilitySeconds: this.settings.visibilityTimeoutSeconds });
        failures = 0;
      } catch (error) {
        if (this.processor.isStopping) return;
        // The broker is down or slow: wait and ask again, for as long as it takes.
        const delay = Math.min(this.processor.settings.maxBackoffMs, 200 * 2 ** Math.min(failures++, 5));
        this.options.logger?.warn(`receiving from ${queue.name} failed (${toSqsBrokerError(error).message}); retrying in ${delay} ms`);
        await sleep(delay, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (messages.length > 0) await this.handle(new ReceivedBatch(this.client, queue, messages, receivedAt, this.visibilityMs, () => this.processor.isStopping, this.options.logger));
    }
  }

  private get visibilityMs(): number {
    return this.settings.visibilityTimeoutSeconds * 1000;
  }

  private async handle(batch: ReceivedBatch): Promise<void> {
    try {
      const items = batch.messages.map((message) => {
        const { key, value, headers, sequenceNumber } = decodeMessage(message);
        return this.processor.sortOut({ key, value, headers, delivery: { topic: batch.queue.topic, partition: 0, offset: sequenceNumber } });
      });
      await new Promise<void>((resolve, reject) => {
        this.gathering.push({ batch, items, resolve, reject });
        this.drain();
      });
    } catch (error) {
      // Not deleted: given back (by stop() when stopping), or redelivered once the visibility timeout ran out.
      if (!(error instanceof ConsumerStopping)) this.options.logger?.error(`handling messages from ${batch.queue.name} failed: ${(error as Error).message}`);
      if (this.processor.isStopping) this.abandoned.push(batch);
      else batch.release();
    } finally {
      await batch.finish();
    }
  }

  /**
   * One unit of work at a time, as Kafka's consumer does: what the receivers bring
   * while one is being handled waits (its visibility extended) and goes in the next.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => {
      void (async () => {
        try {
          while (this.gathering.length > 0) await this.handleGathered();
        } finally {
          this.draining = false;
        }
      })();
    });
  }

  /**
   * Receives that completed in the same turn (or while the last unit of work ran) go together when nothing in them needs
   * cutting out; otherwise each goes through `process` on its own, where poison is
   * parked. What was held for more than a third of the timeout is extended first.
   */
  private async handleGathered(): Promise<void> {
    const members: Gathered[] = [];
    for (const member of this.gathering.splice(0)) {
      try {
        await member.batch.keepAlive();
        members.push(member);
      } catch (error) {
        member.reject(error);
      }
    }
    try {
      if (members.length > 1 && (await this.processor.together(members.flatMap((m) => m.items)))) {
        for (const member of members) {
          member.batch.settle(member.items.length - 1);
          member.resolve();
        }
        return;
      }
    } catch (error) {
      for (const member of members) member.reject(error);
      return;
    }
    for (const member of members) {
      await this.processor.process(member.items, member.batch, (index) => member.batch.settle(index)).then(
        () => member.resolve(),
        (error: unknown) => member.reject(error),
      );
    }
  }
}
