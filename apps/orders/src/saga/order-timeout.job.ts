import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { inTransaction } from '@orderflow/eventstore';
import { CONFIG } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { OrdersConfigSchema } from '../config';
import type { ExpiringStatus } from '../order/order.decider';
import { expireOrder, findExpiredOrders } from '../order/expire-order.handler';

/**
 * The saga's deadlines, so no order waits forever: an order still PENDING
 * ORDER_PENDING_TIMEOUT_SECONDS after it was placed, or still CONFIRMED
 * ORDER_CONFIRMED_TIMEOUT_SECONDS after it was confirmed, is cancelled with reason
 * TIMEOUT, and payment, inventory and shipping compensate when they see
 * OrderCancelled. Safe with several instances: each expiry is an append with
 * optimistic concurrency, and the decider cancels only an order still in the
 * status whose deadline passed.
 */
@Injectable()
export class OrderTimeoutJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('OrderTimeout');
  private readonly deadlines: { status: ExpiringStatus; ms: number }[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CONFIG) config: Static<typeof OrdersConfigSchema>,
  ) {
    this.deadlines = [
      { status: 'PENDING', ms: config.ORDER_PENDING_TIMEOUT_SECONDS * 1000 },
      { status: 'CONFIRMED', ms: config.ORDER_CONFIRMED_TIMEOUT_SECONDS * 1000 },
    ];
  }

  onApplicationBootstrap(): void {
    // Often enough that an order is cancelled within a quarter of its deadline after it passed.
    const shortest = Math.min(...this.deadlines.map((d) => d.ms));
    const every = Math.min(30_000, Math.max(1_000, shortest / 4));
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => (this.running = undefined));
    }, every);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async sweep(): Promise<void> {
    for (const { status, ms } of this.deadlines) {
      try {
        const now = new Date();
        const expired = await this.dataSource.transaction((tx) => findExpiredOrders(tx, status, new Date(now.getTime() - ms)));
        let cancelled = 0;
        for (const orderId of expired) {
          if (await inTransaction(this.dataSource, (tx) => expireOrder(tx, orderId, status, now))) cancelled++;
        }
        if (cancelled > 0) this.log.warn(`cancelled ${cancelled} order(s) still ${status} after ${ms / 1000} s (TIMEOUT)`);
      } catch (error) {
        this.log.error(`${status} timeout sweep failed: ${(error as Error).message}`);
      }
    }
  }
}
