import type * as amqp from 'amqplib';
import { BatchProcessor, ConsumerStopping, type EventConsumerOptions, type Item, type Lease, type RawMessage } from '../batch-processor';
import { closeQuietly, openChannel, openConnection, within } from './connection';
import { fromAmqp } from './headers';
import type { Subscriber } from '../transport';
import { partitionToHandOver } from './balance';
import { PRESENCE_QUEUE_ARGUMENTS, partitionQueuesOf, presenceQueueOf, type Naming } from './topology';

export interface RabbitMqSubscriberOptions extends Naming {
  url: string;
  connectionName: string;
  /** How often an instance checks whether it holds more than its share of a topic's partitions (see balance.ts). */
  balanceIntervalMs: number;
}

/** One connection; each partition queue is consumed on a channel of its own (a Lane). */
interface Session {
  connection: amqp.ChannelModel;
  open: boolean;
  /** Holds this instance's consumer on the group's presence queue and asks its consumer count. */
  presence: amqp.Channel & { closedBy?: Error };
}

/**
 * One partition queue's consumer on its own channel. A channel per queue is what
 * makes a hand-over safe: closing it makes the quorum queue return every
 * unacknowledged delivery (sorted by delivery, ahead of the queue's other
 * messages) and activate the next waiting consumer in one step of its state
 * machine (rabbit_fifo handle_down). A basic.cancel instead activates the next
 * consumer at once while the cancelled one still holds its prefetched messages,
 * and a nack before the cancel gets them delivered straight back to the same,
 * still active, consumer: either would reorder a partition.
 */
interface Lane {
  session: Session;
  channel: amqp.Channel & { closedBy?: Error };
  open: boolean;
  /** Delivery tags received and not yet acknowledged, to know when a multiple-ack is safe. */
  unacked: Set<number>;
  /** A delivery arrived: this consumer is the queue's single active one. */
  active: boolean;
  /**
   * A first-time delivery arrived: the queue's returned messages (served before the
   * rest) were drained into this consumer, so what it gives back on a hand-over
   * cannot land behind older returned messages.
   */
  drained: boolean;
  /** Being handed over: its deliveries wait, unhandled, for the channel to close. */
  leaving: boolean;
}

/** A partition queue of the group; lives across sessions so its batches stay serial through a reconnect. */
interface QueueState {
  queue: string;
  /** The topic as consumed, with the environment's prefix. */
  topic: string;
  partition: number;
  lane: Lane | undefined;
  pending: { lane: Lane; message: amqp.ConsumeMessage }[];
  busy: boolean;
}

interface Member {
  state: QueueState;
  lane: Lane;
  messages: amqp.ConsumeMessage[];
  items: Item[];
}

const RECONNECT_INITIAL_MS = 500;
const RECONNECT_MAX_MS = 10_000;
const MAX_LINGER_TURNS = 20;
const GATHER_MS = 5;

/**
 * Consumes a group's partition queues, each on its own channel with
 * `prefetch(maxBatchSize)` and manual acknowledgements, all on one connection.
 * What is delivered in the same turn of the event loop is gathered: several
 * queues' messages are tried as one unit of work (`BatchProcessor.together`),
 * otherwise, or when that fails, each queue's go through `BatchProcessor.process`
 * on their own. A queue's batches are handled one after the other, in delivery
 * order; messages are acknowledged only once the handler resolved. What is
 * unacknowledged when a channel closes (a hand-over, a stop, a crash, a lost
 * connection) is requeued by RabbitMQ and redelivered to whoever consumes the
 * queue next; the inbox absorbs the duplicates. A lost connection is re-opened
 * with backoff and the queues consumed again. The instances of a group share the
 * partitions by handing over what is above their share (balance.ts).
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
  private balanceTimer: NodeJS.Timeout | undefined;
  private balancing: Promise<void> | undefined;

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
        lane: undefined,
        pending: [],
        busy: false,
      })),
    );
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.processor.resume();
    await this.openSession();
    this.balanceTimer = setInterval(() => {
      if (this.balancing || this.stopping) return;
      this.balancing = this.balance()
        .catch((error: unknown) => this.options.logger?.warn(`RabbitMQ consumer ${this.options.groupId} could not balance its partitions (${(error as Error).message})`))
        .finally(() => (this.balancing = undefined));
    }, this.rabbit.balanceIntervalMs);
    this.balanceTimer.unref();
  }

  /**
   * Stops taking new work, lets the batches in flight finish and acknowledges them,
   * then closes its channels: each one's unacknowledged deliveries go back to the
   * head of their queue and the next waiting instance takes over. No
   * basic.cancel first: it would activate the next instance while this one still
   * holds prefetched messages (see Lane).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.balanceTimer);
    this.processor.stop();
    this.wake?.();
    await this.balancing;
    await this.reconnecting;
    while (this.rounds.size > 0) await Promise.allSettled([...this.rounds]);
    for (const state of this.queues) state.pending = [];
    const session = this.session;
    this.session = undefined;
    if (session) {
      // Each channel first: amqplib writes every channel through its own buffer, so a
      // connection.close could reach the broker before the last acknowledgements.
      for (const state of this.queues) {
        const lane = state.lane;
        if (lane?.session !== session || !lane.open) continue;
        lane.open = false;
        await closeQuietly(lane.channel);
      }
      session.open = false;
      await closeQuietly(session.connection);
    }
  }

  /** Opens a connection, makes it current and consumes every partition queue on a channel of its own. */
  private async openSession(): Promise<Session> {
    const connection = await openConnection(this.rabbit.url, this.rabbit.connectionName);
    const session: Session = { connection, open: true, presence: undefined as unknown as Session['presence'] };
    try {
      // Current before the first consume: deliveries start arriving while the other queues are still being consumed.
      this.session = session;
      for (const state of this.queues) await this.openLane(session, state);
      // Counted as an instance only once waiting on every partition queue: a share given to it can be taken.
      session.presence = await openChannel(connection);
      session.presence.on('close', () => this.lost(session, session.presence.closedBy));
      const presenceQueue = presenceQueueOf(this.rabbit, this.options.groupId);
      // Declared here too, for an environment set up before the presence queue existed.
      await session.presence.assertQueue(presenceQueue, { durable: true, arguments: PRESENCE_QUEUE_ARGUMENTS });
      await session.presence.consume(presenceQueue, () => undefined, { noAck: true });
    } catch (error) {
      session.open = false;
      if (this.session === session) this.session = undefined;
      await closeQuietly(connection);
      throw error;
    }
    connection.on('close', (error?: Error) => this.lost(session, error));
    return session;
  }

  /** Consumes `state`'s queue on a new channel: the consumer joins the back of the queue's line. */
  private async openLane(session: Session, state: QueueState): Promise<void> {
    const channel = await openChannel(session.connection);
    const lane: Lane = { session, channel, open: true, unacked: new Set(), active: false, drained: false, leaving: false };
    channel.on('close', () => {
      const expected = lane.leaving || !lane.open;
      lane.open = false;
      if (!expected) this.lost(session, channel.closedBy);
    });
    await channel.prefetch(this.processor.settings.maxBatchSize);
    state.lane = lane;
    try {
      await channel.consume(state.queue, (message) => this.onDelivery(state, lane, message), { noAck: false });
      this.options.onRequest?.('consume');
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) throw new Error(`RabbitMQ queue '${state.queue}' does not exist: set the topology up first (Transport.setUp)`, { cause: error });
      throw error;
    }
  }

  /** The connection or one of its channels failed: start over on a new connection (what was unacknowledged is redelivered). */
  private lost(session: Session, error: Error | undefined): void {
    if (!session.open) return;
    session.open = false;
    for (const state of this.queues) if (state.lane?.session === session) state.lane.open = false;
    if (this.stopping || this.session !== session) return;
    void closeQuietly(session.connection);
    this.reconnect(error);
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

  private onDelivery(state: QueueState, lane: Lane, message: amqp.ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): start over, which reports a missing queue.
      this.options.logger?.warn(`RabbitMQ cancelled the consumer of ${state.queue}`);
      if (lane.session.open && !this.stopping) void closeQuietly(lane.session.connection);
      return;
    }
    lane.active = true;
    if (!message.fields.redelivered) lane.drained = true;
    lane.unacked.add(message.fields.deliveryTag);
    this.deliveries++;
    state.pending.push({ lane, message });
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

  /** Starts a round with every idle queue that has deliveries of its current, open lane. */
  private flush(): void {
    if (this.stopping) return;
    const members: Member[] = [];
    for (const state of this.queues) {
      // A leaving lane's deliveries wait for its channel to close, which gives them back.
      if (state.busy || state.pending.length === 0 || state.lane?.leaving) continue;
      // Deliveries of a closed channel cannot be acknowledged; RabbitMQ delivers them again.
      const current = state.pending.filter((p) => p.lane.open && p.lane === state.lane);
      state.pending = [];
      const first = current[0];
      if (!first) continue;
      const messages = current.map((p) => p.message);
      state.busy = true;
      members.push({ state, lane: first.lane, messages, items: messages.map((m) => this.processor.sortOut(this.raw(state, m))) });
    }
    if (members.length === 0) return;
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
        for (const member of members) this.ack(member.lane, member.messages);
        return;
      }
      // One queue at a time, in the order they came: the path that cuts poison out.
      for (const member of members) await this.process(member);
    } catch (error) {
      if (error instanceof ConsumerStopping) return;
      // Unexpected: give every unacknowledged delivery back through a new session rather than leave it stuck on a channel.
      this.options.logger?.error(`RabbitMQ consumer ${this.options.groupId} failed (${(error as Error).message}); reconnecting`);
      for (const member of members) if (member.lane.session.open) void closeQuietly(member.lane.session.connection);
    }
  }

  private async process({ lane, messages, items }: Member): Promise<void> {
    const lease: Lease = {
      owned: () => lane.open && !this.stopping,
      keepAlive: () => (lane.open ? Promise.resolve() : Promise.reject(new ConsumerStopping('RabbitMQ channel closed'))),
    };
    let done = 0;
    await this.processor.process(items, lease, (index) => {
      this.ack(lane, messages.slice(done, index + 1));
      done = index + 1;
    });
  }

  /**
   * Acknowledges with one multiple-ack when that is safe: it acknowledges every
   * earlier unacknowledged tag on the channel, so only when no earlier delivery is
   * still being handled; otherwise one ack each.
   */
  private ack(lane: Lane, messages: readonly amqp.ConsumeMessage[]): void {
    const last = messages[messages.length - 1];
    if (!last || !lane.open) return;
    for (const m of messages) lane.unacked.delete(m.fields.deliveryTag);
    const highest = Math.max(...messages.map((m) => m.fields.deliveryTag));
    const highestMessage = messages.find((m) => m.fields.deliveryTag === highest)!;
    const earlierInFlight = [...lane.unacked].some((tag) => tag < highest);
    try {
      if (earlierInFlight) for (const m of messages) lane.channel.ack(m);
      else lane.channel.ack(highestMessage, true);
      this.options.onRequest?.('ack');
    } catch (error) {
      // The channel closed in between: RabbitMQ redelivers those messages.
      this.options.logger?.warn(`acknowledgement lost with the channel (${(error as Error).message}); ${messages.length} message(s) will be delivered again`);
    }
  }

  /** Hands one partition over per topic where this instance is active on more than its share (balance.ts). */
  private async balance(): Promise<void> {
    const session = this.session;
    if (!session?.open) return;
    let instances: number | undefined;
    for (const topic of new Set(this.queues.map((q) => q.topic))) {
      const states = this.queues.filter((q) => q.topic === topic);
      const holdings = states.map(({ lane }) => ({ active: !!lane?.open && lane.active, movable: !!lane?.open && lane.drained && !lane.leaving }));
      // Only an instance active on two partitions or more can be above any share: the others ask nothing.
      if (holdings.filter((h) => h.active).length < 2) continue;
      instances ??= await this.instances(session);
      const index = partitionToHandOver(holdings, instances);
      const state = index === undefined ? undefined : states[index];
      if (state) await this.handOver(state, instances);
    }
  }

  /** Live instances of the group: the consumers of its presence queue. */
  private async instances(session: Session): Promise<number> {
    const queue = presenceQueueOf(this.rabbit, this.options.groupId);
    const { consumerCount } = await within(5_000, `checking queue ${queue}`, session.presence.checkQueue(queue));
    this.options.onRequest?.('checkQueue');
    return consumerCount;
  }

  /**
   * Gives `state`'s partition to the next waiting instance: takes no new work from
   * it, lets the batch in flight finish and be acknowledged, closes its channel (the
   * broker requeues what was prefetched but not handled at the head of the queue,
   * in order, and activates the consumer that waited longest) and consumes the
   * queue again at the back of the line.
   */
  private async handOver(state: QueueState, instances: number): Promise<void> {
    const lane = state.lane;
    if (!lane?.open) return;
    lane.leaving = true;
    while (state.busy) await Promise.allSettled([...this.rounds]);
    state.pending = [];
    lane.open = false;
    this.options.logger?.log(`RabbitMQ consumer ${this.options.groupId} hands ${state.queue} over (${instances} instances share its topic)`);
    await closeQuietly(lane.channel);
    const session = lane.session;
    if (this.stopping || !session.open || this.session !== session) return;
    try {
      await this.openLane(session, state);
    } catch (error) {
      // Without its consumer on every queue the instance would not take over when another goes: start over.
      this.lost(session, error as Error);
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
