import type { DataSource } from 'typeorm';

export interface AdmissionSettings {
  /** Orders PENDING at which `POST /orders` is refused; 0 never refuses. */
  maxPending: number;
  /** What a refused client is told to wait before it tries again. */
  retryAfterSeconds: number;
  /** How old the count of pending orders may be. */
  sampleMs?: number;
}

export type AdmissionVerdict = { admitted: true } | { admitted: false; pending: number; retryAfterSeconds: number; message: string };

const SAMPLE_MS = 250;

/**
 * Load shedding for `POST /orders`. Above its capacity the platform still takes
 * every order and works through the backlog (nothing is lost), but every order
 * behind it waits longer: a sale at twice the capacity would make each order take
 * minutes. So while ORDER_ADMISSION_MAX_PENDING orders or more are PENDING (placed
 * and waiting for payment, stock and shipment results), new orders are refused
 * with 503 and Retry-After, and the backlog queues in the clients, who retry,
 * instead of in Kafka.
 *
 * The count is the saga's own backlog as the database has it, so every instance
 * of the service sees the same one. It is read at most every 250 ms (one
 * index-only count, stopped at the bound so a huge backlog costs no more), and
 * the orders this instance admitted since are added to it, so a burst between
 * two reads cannot overshoot the bound by much. Idle, nothing is read.
 */
export class OrderAdmission {
  private readonly sampleMs: number;
  private sampledAt = -Infinity;
  private sampled = 0;
  private admittedSince = 0;
  private sampling: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: AdmissionSettings,
  ) {
    this.sampleMs = settings.sampleMs ?? SAMPLE_MS;
  }

  async admit(now = Date.now()): Promise<AdmissionVerdict> {
    const { maxPending, retryAfterSeconds } = this.settings;
    if (maxPending === 0) return { admitted: true };
    if (now - this.sampledAt >= this.sampleMs) await this.sample(now);
    const pending = this.sampled + this.admittedSince;
    if (pending >= maxPending) {
      return {
        admitted: false,
        pending,
        retryAfterSeconds,
        message: `${this.sampled >= maxPending ? 'at least ' : ''}${pending} orders are waiting for payment, stock and shipping (the bound is ${maxPending}); retry in ${retryAfterSeconds} s`,
      };
    }
    this.admittedSince++;
    return { admitted: true };
  }

  private sample(now: number): Promise<void> {
    this.sampling ??= this.dataSource
      .query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM order_summaries WHERE status = 'PENDING' LIMIT $1) pending`, [this.settings.maxPending])
      .then((rows: { n: number }[]) => {
        this.sampled = rows[0]?.n ?? 0;
        this.sampledAt = now;
        this.admittedSince = 0;
      })
      .finally(() => (this.sampling = undefined));
    return this.sampling;
  }
}
