import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutboxRelay, inTransaction } from '@orderflow/eventstore';
import { CONFIG } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { OrdersConfigSchema } from '../config';
import { expireOrder, findStalePendingOrders } from '../order/order.handlers';

/**
 * The saga's deadline: an order still PENDING after ORDER_PENDING_TIMEOUT_SECONDS is
 * cancelled with reason TIMEOUT, and payment, inventory and shipping compensate
 * when they see OrderCancelled. Safe with several instances: each expiry is an
 * append with optimistic concurrency, and expiring a non-PENDING order is a no-op.
 */
@Injectable()
export class OrderTimeoutJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('OrderTimeout');
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OutboxRelay) private readonly relay: OutboxRelay,
    @Inject(CONFIG) config: Static<typeof OrdersConfigSchema>,
  ) {
    this.timeoutMs = config.ORDER_PENDING_TIMEOUT_SECONDS * 1000;
  }

  onApplicationBootstrap(): void {
    const every = Math.min(30_000, Math.max(1_000, this.timeoutMs / 4));
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = undefined));
    }, every);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async sweep(): Promise<void> {
    try {
      const now = new Date();
      const stale = await this.dataSource.transaction((tx) => findStalePendingOrders(tx, new Date(now.getTime() - this.timeoutMs)));
      let expired = 0;
      for (const orderId of stale) {
        if (await inTransaction(this.dataSource, (tx) => expireOrder(tx, orderId, now))) expired++;
      }
      if (expired > 0) {
        this.log.warn(`cancelled ${expired} order(s) still PENDING after ${this.timeoutMs / 1000} s (TIMEOUT)`);
        this.relay.nudge();
      }
    } catch (error) {
      this.log.error(`timeout sweep failed: ${(error as Error).message}`);
    }
  }
}
