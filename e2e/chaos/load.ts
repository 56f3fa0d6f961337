import { sampleAddress, type Cluster, type PlaceOrderRequest, type StorefrontClient } from '@orderflow/testkit';

/** Plenty of these: orders for them complete unless payment declines. */
export const PLENTIFUL = ['CHAOS-KB', 'CHAOS-MOUSE', 'CHAOS-HUB', 'CHAOS-LAMP'];
/** A few units only: once sold out, orders for it are cancelled OUT_OF_STOCK. */
export const SCARCE = 'CHAOS-SCARCE';

export const CHAOS_CATALOG = [
  ...PLENTIFUL.map((sku, i) => ({
    sku,
    name: `Chaos item ${sku.slice(6).toLowerCase()}`,
    unitPrice: 1000 + 500 * i,
    currency: 'EUR',
    stock: 1_000_000,
  })),
  { sku: SCARCE, name: 'Chaos scarce item', unitPrice: 9900, currency: 'EUR', stock: 20 },
];

/**
 * The i-th order of the mix: about 10% with a card that declines, about 4% for the
 * scarce SKU (out of stock after the first few), some with two lines.
 */
export function orderNumber(i: number): PlaceOrderRequest {
  const sku = (k: number) => PLENTIFUL[k % PLENTIFUL.length]!;
  const items =
    i % 25 === 7
      ? [{ sku: SCARCE, quantity: 2 }]
      : i % 3 === 0
        ? [
            { sku: sku(i), quantity: 1 + (i % 3) },
            { sku: sku(i + 1), quantity: 1 },
          ]
        : [{ sku: sku(i), quantity: 1 + (i % 2) }];
  return { items, payment: { token: i % 10 === 3 ? 'tok_declined' : 'tok_visa' }, shippingAddress: sampleAddress };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Accepted {
  orderId: string;
  at: number;
}

/**
 * Open-loop load: one order every 1/rate seconds whatever happens to the earlier
 * ones, as customers do not wait for each other. Answers other than 202 (the
 * storefront down, 503 while its database is) are counted as refused: those
 * orders were never accepted, so nothing is owed for them.
 */
export class OrderLoad {
  readonly accepted: Accepted[] = [];
  readonly refused = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private sent = 0;
  private startedAt = 0;
  private stoppedAt = 0;

  constructor(
    private readonly customers: StorefrontClient[],
    private readonly rate: number,
    private readonly firstNumber: number,
  ) {}

  /**
   * On a schedule, not on the timer's word: each tick sends what the elapsed time
   * owes (a late tick sends more), so the offered rate is the configured one even
   * when timers fire late on a busy machine.
   */
  start(): void {
    this.startedAt = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.rate);
      while (this.sent < due) this.fire();
    }, Math.max(1, Math.min(20, 1000 / this.rate)));
  }

  /** Stops placing orders and waits for the answers still on their way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stoppedAt = Date.now();
    await Promise.all([...this.inFlight]);
  }

  get seconds(): number {
    return ((this.stoppedAt || Date.now()) - this.startedAt) / 1000;
  }

  get attempted(): number {
    return this.sent;
  }

  private fire(): void {
    const n = this.firstNumber + this.sent++;
    const customer = this.customers[n % this.customers.length]!;
    const placing = (async () => {
      try {
        const placed = await customer.placeOrder(orderNumber(n));
        if (placed.status === 202) this.accepted.push({ orderId: placed.body.orderId, at: Date.now() });
        else this.refuse(`HTTP ${placed.status}`);
      } catch (error) {
        this.refuse((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name);
      }
    })();
    this.inFlight.add(placing);
    void placing.finally(() => this.inFlight.delete(placing));
  }

  private refuse(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }
}

export interface Outcome {
  status: 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  /** When the watcher first saw it terminal. */
  at: number;
}

/**
 * Watches the accepted orders become terminal, reading the orders database
 * twice a second (the storefront API would add load per order); the time each
 * was first seen terminal gives the recovery figures.
 */
export class OutcomeWatcher {
  readonly outcomes = new Map<string, Outcome>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly load: OrderLoad,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => (this.polling = undefined));
    }, 500);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  pending(): string[] {
    return this.load.accepted.filter((a) => !this.outcomes.has(a.orderId)).map((a) => a.orderId);
  }

  async poll(): Promise<void> {
    const ids = this.pending();
    if (ids.length === 0) return;
    const rows = await this.cluster
      .query<{ order_id: string; status: 'COMPLETED' | 'CANCELLED'; reason: string | null }>(
        'orders',
        `SELECT order_id, status, reason FROM order_summaries WHERE order_id = ANY($1::text[]) AND status IN ('COMPLETED', 'CANCELLED')`,
        [ids],
      )
      // PostgreSQL may be the fault under test: the next poll tries again.
      .catch(() => []);
    const now = Date.now();
    for (const r of rows) this.outcomes.set(r.order_id, { status: r.status, reason: r.reason, at: now });
  }

  /** Waits until every accepted order is terminal; returns those that never became terminal. */
  async drain(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await this.poll();
      if (this.pending().length === 0) return [];
      await sleep(500);
    }
    return this.pending();
  }
}
