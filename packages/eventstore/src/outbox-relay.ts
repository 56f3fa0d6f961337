import type { DataSource } from 'typeorm';

export interface OutboxMessage {
  id: string;
  eventId: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

export interface RelayLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface OutboxRelayOptions {
  /** Sends the messages, in order, and resolves only once the broker acknowledged all of them. */
  publish: (messages: OutboxMessage[]) => Promise<void>;
  batchSize?: number;
  pollIntervalMs?: number;
  maxBackoffMs?: number;
  logger?: RelayLogger;
  /** Called after each published batch, e.g. to count it in metrics. */
  onPublished?: (count: number) => void;
}

interface OutboxRow {
  id: string;
  event_id: string;
  topic: string;
  message_key: string;
  headers: Record<string, string>;
  payload: string;
}

// One relay per database publishes at a time; other instances of the service wait.
const RELAY_LOCK = 7_361_000_002;

/**
 * Publishes committed outbox rows in id order and deletes them once Kafka acked.
 *
 * Ordering: two events of one stream are appended by transactions that saw each
 * other (optimistic concurrency), so their ids increase in commit order; rows of
 * other streams that commit late are simply picked up on a later pass, because
 * nothing is skipped by a high-water mark. A crash between publish and delete
 * republishes the batch: consumers are idempotent (inbox).
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;
  private pendingNudge = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a pass now, e.g. right after a local commit, instead of waiting for the next poll. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pendingNudge = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops polling and waits for the batch in flight, so nothing is half-published at shutdown. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Publishes everything currently committed; returns how many messages went out. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.publishBatch();
      total += sent;
      if (sent < (this.options.batchSize ?? 500)) return total;
    }
  }

  async pending(): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query('SELECT count(*) AS n FROM outbox');
    return Number(rows[0]?.n ?? 0);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
  }

  private async pass(): Promise<void> {
    let delay = this.options.pollIntervalMs ?? 100;
    try {
      this.pendingNudge = false;
      const sent = await this.drain();
      if (this.failures > 0) this.options.logger?.log(`outbox relay recovered; published ${sent} waiting event(s)`);
      this.failures = 0;
      if (this.pendingNudge) delay = 0;
    } catch (error) {
      this.failures++;
      delay = Math.min(this.options.maxBackoffMs ?? 5_000, 100 * 2 ** this.failures);
      const waiting = await this.pending().catch(() => NaN);
      this.options.logger?.warn(
        `outbox relay could not publish (${(error as Error).message}); ${Number.isNaN(waiting) ? 'unknown' : waiting} event(s) waiting, retrying in ${delay} ms`,
      );
    }
    if (!this.stopped) this.schedule(delay);
  }

  private async publishBatch(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    return this.dataSource.transaction(async (tx) => {
      const [lock]: { locked: boolean }[] = await tx.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [RELAY_LOCK]);
      if (!lock?.locked) return 0;
      const rows: OutboxRow[] = await tx.query(
        'SELECT id, event_id, topic, message_key, headers, payload FROM outbox ORDER BY id LIMIT $1',
        [batchSize],
      );
      if (rows.length === 0) return 0;
      await this.options.publish(
        rows.map((r) => ({ id: r.id, eventId: r.event_id, topic: r.topic, key: r.message_key, headers: r.headers, value: r.payload })),
      );
      await tx.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      this.options.onPublished?.(rows.length);
      return rows.length;
    });
  }
}
