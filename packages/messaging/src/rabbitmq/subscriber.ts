import type * as amqp from 'amqplib';
import { BatchProcessor, ConsumerStopping, type EventConsumerOptions, type Item, type Lease, type RawMessage } from '../batch-processor';
import { closeQuietly, openChannel, openConnection, within } from './connection';
import { fromAmqp } from './headers';
import type { Subscriber } from '../transport';
import { partitionQueuesOf, type Naming } from './topology';

export interface RabbitMqSubscriberOptions extends Naming {
  url: string;
  connectionName: string;
}

/** One connection and channel; delivery tags and acknowledgements belong to it alone. */
interface Session {
  connection: amqp.ChannelModel;
  channel: amqp.Channel & { closedBy?: Error };
  consumerTags: string[];
  open: boolean;
  /** Delivery tags received and not yet acknowledged, to know when a multiple-ack is safe. */
  unacked: Set<number>;
}

/** A partition queue of the group; lives across sessions so its batches stay serial through a reconnect. */
interface QueueState {
  queue: string;
  /** The topic as consumed, with the environment's prefix. */
  topic: string;
  partition: number;
  pending: { session: Session; message: amqp.ConsumeMessage }[];
  busy: boolean;
}

interface Member {
  state: QueueState;
  session: Session;
  messages: amqp.ConsumeMessage[];
  items: Item[];
}

const RECONNECT_INITIAL_MS = 500;
const RECONNECT_MAX_MS = 10_000;
const MAX_LINGER_TURNS = 20;
const GATHER_MS = 5;

/**
 * Consumes a group's partition queues on one channel with `prefetch(maxBatchSize)`
 * and manual acknowledgements. What is delivered in the same turn of the event
 * loop is gathered: several queues' messages are tried as one unit of work
 * (`BatchProcessor.together`), otherwise, or when that fails, each queue's go
 * through `BatchProcessor.process` on their own. A queue's batches are handled one
 * after the other, in delivery order; messages are acknowledged only once the
 * handler resolved. What is unacknowledged when the channel closes (a stop during
 * a retry, a crash, a lost connection) is requeued by RabbitMQ and redelivered to
 * whoever consumes the queue next; the inbox absorbs the duplicates. A lost
 * connection is re-opened with backoff and the queues consumed again.
 */
export class RabbitMqSubscriber implements Subscriber {
  private readonly processor: BatchProcessor;
  private readonly queues: QueueState[];
  private session: Session | undefined;
  private stopping = false;
  private flushScheduled = false;
  /** Deliveries received so far, to tell a quiet turn of the event loop. */
  private deliveries = 0;
  private readonly rounds = new Set<Promise<void>>();
  private reconnecting: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly options: EventConsumerOptions,
    private readonly rabbit: RabbitMqSubscriberOptions,
  ) {
    this.processor = new BatchProcessor(options);
    this.queues = options.topics.flatMap((topic) =>
      partitionQueuesOf(rabbit, options.groupId, topic).map(({ queue, partition }) => ({
        queue,
        topic: `${rabbit.prefix}${topic}`,
        partition,
        pending: [],
        busy: false,
      })),
    );
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.processor.resume();
    await this.openSession();
  }

  /** Stops consuming, lets the batches in flight finish and acknowledges them, then closes (the rest is requeued). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.processor.stop();
    this.wake?.();
    const session = this.session;
    if (session?.open) {
      await within(5_000, 'cancelling consumers', Promise.allSettled(session.consumerTags.map((tag) => session.channel.cancel(tag)))).catch(() => undefined);
    }
    await this.reconnecting;
    while (this.rounds.size > 0) await Promise.allSettled([...this.rounds]);
    for (const state of this.queues) state.pending = [];
    const current = this.session;
    this.session = undefined;
    for (const closing of new Set([session, current])) {
      if (!closing) continue;
      closing.open = false;
      await closeQuietly(closing.connection);
    }
  }

  /** Opens a connection and channel, makes them current and consumes every partition queue on them. */
  private async openSession(): Promise<Session> {
    const connection = await openConnection(this.rabbit.url, this.rabbit.connectionName);
    const session: Session = { connection, channel: undefined as unknown as Session['channel'], consumerTags: [], open: true, unacked: new Set() };
    try {
      session.channel = await openChannel(connection);
      await session.channel.prefetch(this.processor.settings.maxBatchSize);
      // Current before the first consume: deliveries start arriving while the other queues are still being consumed.
      this.session = session;
      for (const state of this.queues) {
        try {
          const { consumerTag } = await session.channel.consume(state.queue, (message) => this.onDelivery(state, session, message), { noAck: false });
          this.options.onRequest?.('consume');
          session.consumerTags.push(consumerTag);
        } catch (error) {
          if ((error as { code?: unknown }).code === 404) throw new Error(`RabbitMQ queue '${state.queue}' does not exist: set the topology up first (Transport.setUp)`, { cause: error });
          throw error;
        }
      }
    } catch (error) {
      session.open = false;
      if (this.session === session) this.session = undefined;
      await closeQuietly(connection);
      throw error;
    }
    const lost = (error?: Error): void => {
      if (!session.open) return;
      session.open = false;
      if (this.stopping || this.session !== session) return;
      void closeQuietly(connection);
      this.reconnect(error ?? session.channel.closedBy);
    };
    connection.on('close', lost);
    session.channel.on('close', () => lost(session.channel.closedBy));
    return session;
  }

  private reconnect(cause: Error | undefined): void {
    if (this.reconnecting) return;
    const group = this.options.groupId;
    this.reconnecting = (async () => {
      let delay = RECONNECT_INITIAL_MS;
      this.options.logger?.warn(`RabbitMQ consumer ${group} lost its connection (${cause?.message ?? 'closed'}); reconnecting`);
      while (!this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (this.stopping) return;
        try {
          const session = await this.openSession();
          if (this.stopping) {
            session.open = false;
            await closeQuietly(session.connection);
            return;
          }
          this.options.logger?.log(`RabbitMQ consumer ${group} reconnected`);
          return;
        } catch (error) {
          this.options.logger?.warn(`RabbitMQ consumer ${group} could not reconnect (${(error as Error).message}); retrying in ${delay} ms`);
          delay = Math.min(RECONNECT_MAX_MS, delay * 2);
        }
      }
    })().finally(() => {
      this.reconnecting = undefined;
      this.wake = undefined;
    });
  }

  private onDelivery(state: QueueState, session: Session, message: amqp.ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): start over, which reports a missing queue.
      this.options.logger?.warn(`RabbitMQ cancelled the consumer of ${state.queue}`);
      if (session.open && !this.stopping) void closeQuietly(session.connection);
      return;
    }
    session.unacked.add(message.fields.deliveryTag);
    this.deliveries++;
    state.pending.push({ session, message });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => this.lingerThenFlush(this.deliveries, 0), GATHER_MS);
    }
  }

  /**
   * Gathers for a few milliseconds, then waits for a turn of the event loop
   * without new deliveries before flushing. Each partition queue is a process of
   * its own on the broker, so messages published together reach the channel from
   * several queues a little apart, and a burst arrives in several socket reads;
   * flushing at the first turn would cut them into small units of work, which is
   * what Kafka's fetch gathers for us. Bounded, so a steady stream still flows.
   */
  private lingerThenFlush(seen: number, turns: number): void {
    setImmediate(() => {
      if (this.deliveries !== seen && turns < MAX_LINGER_TURNS) {
        this.lingerThenFlush(this.deliveries, turns + 1);
        return;
      }
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Starts a round with every idle queue that has deliveries of the current session. */
  private flush(): void {
    if (this.stopping) return;
    const members: Member[] = [];
    for (const state of this.queues) {
      if (state.busy || state.pending.length === 0) continue;
      // Deliveries of a closed session cannot be acknowledged; RabbitMQ delivers them again.
      const current = state.pending.filter((p) => p.session.open && p.session === this.session);
      state.pending = [];
      const first = current[0];
      if (!first) continue;
      const messages = current.map((p) => p.message);
      state.busy = true;
      members.push({ state, session: first.session, messages, items: messages.map((m) => this.processor.sortOut(this.raw(state, m))) });
    }
    if (members.length === 0) return;
    // In the order they came, as far as one channel's delivery tags tell.
    members.sort((a, b) => a.messages[0]!.fields.deliveryTag - b.messages[0]!.fields.deliveryTag);
    const round = this.round(members).finally(() => {
      for (const { state } of members) state.busy = false;
      this.rounds.delete(round);
      // Deliveries that waited for a busy queue.
      this.flush();
    });
    this.rounds.add(round);
  }

  private async round(members: Member[]): Promise<void> {
    try {
      if (members.length > 1 && (await this.processor.together(members.flatMap((m) => m.items)))) {
        for (const member of members) this.ack(member.session, member.messages);
        return;
      }
      // One queue at a time, in the order they came: the path that cuts poison out.
      for (const member of members) await this.process(member);
    } catch (error) {
      if (error instanceof ConsumerStopping) return;
      // Unexpected: give every unacknowledged delivery back through a new session rather than leave it stuck on this channel.
      this.options.logger?.error(`RabbitMQ consumer ${this.options.groupId} failed (${(error as Error).message}); reconnecting`);
      for (const member of members) if (member.session.open) void closeQuietly(member.session.connection);
    }
  }

  private async process({ session, messages, items }: Member): Promise<void> {
    const lease: Lease = {
      owned: () => session.open && !this.stopping,
      keepAlive: () => (session.open ? Promise.resolve() : Promise.reject(new ConsumerStopping('RabbitMQ channel closed'))),
    };
    let done = 0;
    await this.processor.process(items, lease, (index) => {
      this.ack(session, messages.slice(done, index + 1));
      done = index + 1;
    });
  }

  /**
   * Acknowledges with one multiple-ack when that is safe: it acknowledges every
   * earlier unacknowledged tag on the channel, whichever queue it came from, so only
   * when no earlier delivery is still being handled; otherwise one ack each.
   */
  private ack(session: Session, messages: readonly amqp.ConsumeMessage[]): void {
    const last = messages[messages.length - 1];
    if (!last || !session.open) return;
    for (const m of messages) session.unacked.delete(m.fields.deliveryTag);
    const highest = Math.max(...messages.map((m) => m.fields.deliveryTag));
    const highestMessage = messages.find((m) => m.fields.deliveryTag === highest)!;
    const earlierInFlight = [...session.unacked].some((tag) => tag < highest);
    try {
      if (earlierInFlight) for (const m of messages) session.channel.ack(m);
      else session.channel.ack(highestMessage, true);
      this.options.onRequest?.('ack');
    } catch (error) {
      // The channel closed in between: RabbitMQ redelivers those messages.
      this.options.logger?.warn(`acknowledgement lost with the channel (${(error as Error).message}); ${messages.length} message(s) will be delivered again`);
    }
  }

  private raw(state: QueueState, message: amqp.ConsumeMessage): RawMessage {
    const { key, headers } = fromAmqp(message.properties);
    return {
      key,
      value: message.content.toString('utf8'),
      headers,
      delivery: { topic: state.topic, partition: state.partition, offset: String(message.fields.deliveryTag) },
    };
  }
}
