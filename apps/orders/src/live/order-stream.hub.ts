import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { databaseUrl, readStream } from '@orderflow/eventstore';
import { CONFIG } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { OrdersConfigSchema } from '../config';
import { orderDecider, orderStream, type OrderEvent } from '../order/order.decider';
import { ORDER_CHANNEL } from './order-notifications';
import { SseClient, type OrderStatusView, type TimelineEntry } from './sse-client';

interface Subscription {
  clients: Set<SseClient>;
  reading: boolean;
  again: boolean;
}

const LISTEN_RETRY_MS = 1_000;
/** How long the listening connection stays after the last watcher left, so a page reload does not reconnect it. */
const UNLISTEN_AFTER_MS = 30_000;

/**
 * Live order streams of this instance. While anyone here watches, one connection
 * LISTENs for orders whose stream grew (on any instance); for an order someone
 * here is watching, the stream is read once and each watcher gets what it has not
 * seen. Nothing runs for an order no one watches, nor for a watched order that does
 * not change; with no watchers at all nothing listens, so the database delivers
 * the announcements of every batch to no one here (a listening connection costs
 * this process and PostgreSQL a wake-up per batch that wrote order summaries).
 */
@Injectable()
export class OrderStreamHub implements BeforeApplicationShutdown {
  private readonly log = new Logger('OrderStreams');
  private readonly subscriptions = new Map<string, Subscription>();
  private clients = 0;
  private listener: Client | undefined;
  private listenTimer: NodeJS.Timeout | undefined;
  private unlistenTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Clients dropped for not reading, since start (for tests and the operator view). */
  dropped = 0;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CONFIG) private readonly config: Static<typeof OrdersConfigSchema>,
  ) {}

  get openStreams(): number {
    return this.clients;
  }

  /** False when this instance already serves ORDER_STREAM_MAX_CLIENTS streams. */
  hasRoom(): boolean {
    return this.clients < this.config.ORDER_STREAM_MAX_CLIENTS;
  }

  /** Watches `orderId` from after `lastVersion`: what is already recorded is sent at once. */
  open(orderId: string, response: ConstructorParameters<typeof SseClient>[0], lastVersion: number): SseClient {
    const client = new SseClient(response, lastVersion, this.config.ORDER_STREAM_BUFFER_BYTES, (c, reason) => this.closed(orderId, c, reason));
    let subscription = this.subscriptions.get(orderId);
    if (!subscription) this.subscriptions.set(orderId, (subscription = { clients: new Set(), reading: false, again: false }));
    subscription.clients.add(client);
    this.clients++;
    this.keepListening();
    this.heartbeat ??= setInterval(() => this.beat(), this.config.ORDER_STREAM_HEARTBEAT_SECONDS * 1000);
    this.refresh(orderId);
    return client;
  }

  private closed(orderId: string, client: SseClient, reason: 'gone' | 'slow' | 'ended'): void {
    const subscription = this.subscriptions.get(orderId);
    if (!subscription?.clients.delete(client)) return;
    this.clients--;
    if (reason === 'slow') {
      this.dropped++;
      this.log.warn(`dropped a live stream of order ${orderId}: the client stopped reading`);
    }
    if (subscription.clients.size === 0) this.subscriptions.delete(orderId);
    if (this.clients === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
    if (this.clients === 0) {
      clearTimeout(this.unlistenTimer);
      this.unlistenTimer = setTimeout(() => void this.unlisten(), UNLISTEN_AFTER_MS).unref();
    }
  }

  private beat(): void {
    for (const subscription of this.subscriptions.values()) for (const client of subscription.clients) client.heartbeat();
  }

  /** Reads the order's stream for its watchers; a change announced meanwhile reads it again after. */
  private refresh(orderId: string): void {
    const subscription = this.subscriptions.get(orderId);
    if (!subscription) return;
    if (subscription.reading) {
      subscription.again = true;
      return;
    }
    subscription.reading = true;
    void (async () => {
      do {
        subscription.again = false;
        try {
          const { entries, status } = await this.read(orderId);
          for (const client of subscription.clients) client.deliver(entries, status);
        } catch (error) {
          // The database is away: the listener is too, and its return refreshes every watched order.
          this.log.warn(`cannot read order ${orderId} for its live streams: ${(error as Error).message}`);
        }
      } while (subscription.again && this.subscriptions.get(orderId) === subscription);
      subscription.reading = false;
    })();
  }

  private async read(orderId: string): Promise<{ entries: TimelineEntry[]; status: OrderStatusView }> {
    const { events } = await readStream(this.dataSource.manager, orderStream(orderId));
    const state = (events as OrderEvent[]).reduce(orderDecider.evolve, orderDecider.initialState());
    const entries = events.map((e, i) => ({ version: i + 1, type: e.type, at: e.time, source: e.source.replace(/^orderflow\//, '') }));
    const status: OrderStatusView =
      state.status === 'NONE'
        ? { status: 'NONE', cancellable: false }
        : {
            status: state.status,
            ...(state.status === 'CANCELLED' ? { reason: state.reason } : {}),
            cancellable: state.status === 'PENDING' || state.status === 'CONFIRMED',
          };
    return { entries, status };
  }

  /** Listening from now on (it reads every watched order again once it is), until no one has watched for a while. */
  private keepListening(): void {
    clearTimeout(this.unlistenTimer);
    this.unlistenTimer = undefined;
    if (!this.listener && !this.listenTimer) void this.listen();
  }

  private async unlisten(): Promise<void> {
    this.unlistenTimer = undefined;
    if (this.clients > 0) return;
    clearTimeout(this.listenTimer);
    this.listenTimer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /**
   * A connection of its own, outside the pool. When it is lost while anyone
   * watches, it is opened again and every watched order is read, in case a
   * notification went by meanwhile.
   */
  private async listen(): Promise<void> {
    this.listenTimer = undefined;
    if (this.stopped || this.clients === 0) return;
    const client = new Client({ connectionString: databaseUrl(this.config.DATABASE_URL, this.config.DATABASE_NAME), keepAlive: true });
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      void client.end().catch(() => undefined);
      if (!this.stopped && this.clients > 0) this.listenTimer = setTimeout(() => void this.listen(), LISTEN_RETRY_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel !== ORDER_CHANNEL || !message.payload) return;
      if (this.subscriptions.has(message.payload)) this.refresh(message.payload);
    });
    try {
      this.listener = client;
      await client.connect();
      await client.query(`LISTEN ${ORDER_CHANNEL}`);
      if (this.stopped) await client.end();
      else for (const orderId of this.subscriptions.keys()) this.refresh(orderId);
    } catch (error) {
      if (this.listener === client) this.listener = undefined;
      await client.end().catch(() => undefined);
      if (this.stopped || this.clients === 0) return;
      this.log.warn(`cannot listen for order changes (${(error as Error).message}); retrying in ${LISTEN_RETRY_MS} ms`);
      this.listenTimer = setTimeout(() => void this.listen(), LISTEN_RETRY_MS);
    }
  }

  /** Open streams never end by themselves: end them, or closing the HTTP server would wait for them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.listenTimer);
    clearTimeout(this.unlistenTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const subscription of [...this.subscriptions.values()]) for (const client of [...subscription.clients]) client.close('ended');
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }
}
