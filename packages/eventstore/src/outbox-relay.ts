import { AsyncResource } from 'node:async_hooks';
import { Client, type ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import { OUTBOX_CHANNEL, onOutboxCommitted, senderTag } from './outbox-signal';

export interface OutboxMessage {
  id: string;
  eventId: string;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

/**
 * What the broker did with the messages of one `publish` call. Only messages in
 * `acked` leave the outbox; a message in neither list stays for the next pass.
 */
export interface PublishReport {
  acked: readonly OutboxMessage[];
  /**
   * Groups that failed together. An error marked `retriable: false` is a refusal
   * for good (the relay parks the culprit); any other error is retried later.
   */
  failed: readonly { messages: readonly OutboxMessage[]; error: unknown }[];
}

/** An outbox row moved to `outbox_parked` because the broker refused it for good. */
export interface ParkedMessage extends OutboxMessage {
  error: string;
  errorName: string;
  errorCode?: string;
}

export interface RelayLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface OutboxRelayOptions {
  /**
   * Sends the messages, in order per key, and reports what the broker
   * acknowledged. Resolving with nothing means every message was acknowledged;
   * rejecting means none was (a rejection marked `retriable: false` is a refusal).
   * `KafkaPublisher.sendByPartition` is the one to use: one request per
   * topic-partition, so a failure names exactly the messages it concerns.
   */
  publish: (messages: OutboxMessage[]) => Promise<PublishReport | void>;
  /** Rows read per batch. Default 500. */
  batchSize?: number;
  /**
   * Bytes (key + value + header names and values) per batch, below the broker's
   * message.max.bytes (1 MB by default) so a batch of one partition fits one
   * request. A single larger row still goes alone, and is parked if refused.
   * Default 900 000.
   */
  maxBatchBytes?: number;
  /**
   * While another instance's relay holds the publishing lock, this one tries again
   * after this long (only when it has been woken; an idle relay does nothing). Default 200 ms.
   */
  lockRetryMs?: number;
  /** Wait before re-opening a lost LISTEN connection. Default 1 000 ms. */
  listenRetryMs?: number;
  /** Longest wait between passes while publishing fails. Default 5 000 ms. */
  maxBackoffMs?: number;
  /**
   * How long acknowledged rows may stay in the outbox waiting for the next pass,
   * whose read deletes them in the same statement, before they are deleted on
   * their own. At a few passes a second this saves most DELETE statements; a crash
   * meanwhile publishes those rows again, which consumers absorb (inbox). Default 100 ms.
   */
  deleteDelayMs?: number;
  /**
   * The shortest time between the starts of two passes woken by commits: commits
   * within it are published together by the pass that follows, so under load there
   * are fewer, larger reads and produce requests, for at most this much more
   * latency; a commit after a pause is published at once. 0 turns it off. Default 10 ms.
   */
  minPassIntervalMs?: number;
  logger?: RelayLogger;
  /** Called after each published batch, e.g. to count it in metrics. */
  onPublished?: (count: number) => void;
  /** Called for each row parked, e.g. to count it in metrics. */
  onParked?: (message: ParkedMessage) => void;
}

type Settings = Required<
  Pick<OutboxRelayOptions, 'batchSize' | 'maxBatchBytes' | 'lockRetryMs' | 'listenRetryMs' | 'maxBackoffMs' | 'deleteDelayMs' | 'minPassIntervalMs'>
>;

const DEFAULTS: Settings = {
  batchSize: 500,
  maxBatchBytes: 900_000,
  lockRetryMs: 200,
  listenRetryMs: 1_000,
  maxBackoffMs: 5_000,
  deleteDelayMs: 100,
  minPassIntervalMs: 10,
};

function settingsOf(options: OutboxRelayOptions): Settings {
  const settings = { ...DEFAULTS };
  for (const name of Object.keys(DEFAULTS) as (keyof Settings)[]) {
    const value = options[name];
    if (value === undefined) continue;
    const least = name === 'minPassIntervalMs' ? 0 : 1;
    if (!Number.isInteger(value) || value < least) throw new RangeError(`OutboxRelay: ${name} must be an integer >= ${least} (got ${value})`);
    settings[name] = value;
  }
  return settings;
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
// How pg_locks shows a bigint advisory lock key: its high and low 32 bits (objsubid 1).
const RELAY_LOCK_HIGH = Math.floor(RELAY_LOCK / 2 ** 32);
const RELAY_LOCK_LOW = RELAY_LOCK % 2 ** 32;

/** The statements a relay runs on its locked connection. */
interface SqlSession {
  query(sql: string, parameters?: unknown[]): Promise<unknown[]>;
}

const isRefusal = (error: unknown): boolean => (error as { retriable?: unknown } | null)?.retriable === false;

function sizeOf(message: OutboxMessage): number {
  let bytes = Buffer.byteLength(message.key) + Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/** Outcome of one batch: what it moved, whether more rows may be waiting, and a failure to back off on. */
interface BatchResult {
  published: number;
  full: boolean;
  failure?: unknown;
}

/**
 * Publishes committed outbox rows in id order and deletes each one once the
 * broker acknowledged exactly that row.
 *
 * Ordering: two events of one stream are appended by transactions that saw each
 * other (optimistic concurrency), so their ids increase in commit order; rows of
 * other streams that commit late are simply picked up on a later pass, because
 * nothing is skipped by a high-water mark. A crash between publish and delete
 * republishes those rows: consumers are idempotent (inbox).
 *
 * No transaction is open while the broker answers: the relay reads a batch,
 * publishes it, and deletes the acknowledged rows by id in autocommit statements,
 * on a connection of its own that holds a session-level advisory lock. The relay
 * that got the lock keeps it (and the connection) while it runs. A pass costs one
 * statement while passes follow each other: the acknowledged rows are deleted by
 * the next pass's read, or on their own `deleteDelayMs` after the last pass. The
 * relays of other instances find the lock taken, leave the publishing to it
 * (passing their process's commits on to it by notification), and look again now
 * and then, so one of them takes over when it goes away.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;
  private pendingWake = false;
  /** When the last pass started (`performance.now()`), for `minPassIntervalMs`. */
  private lastPassAt = -Infinity;
  /** A woken pass waits for `minPassIntervalMs` to run out: later wakes ride with it. */
  private wakeDeferred = false;
  /**
   * This process committed outbox rows that no pass of this relay has read since:
   * while another instance holds the lock, they are passed on to it by notification.
   */
  private unforwarded = false;
  private forwarding: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private listener: Client | undefined;
  private listenTimer: NodeJS.Timeout | undefined;
  /** The connection holding the publishing lock, while this relay is the one publishing. */
  private leader: Client | undefined;
  private leaderBroken = false;
  private busyPasses = 0;
  /**
   * Rows the broker acknowledged whose DELETE rides with the next pass's read (the
   * read skips them). Deleted alone when no pass came within `deleteDelayMs`, by
   * `drain()`, and at stop.
   */
  private acknowledged: string[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;
  private draining: Promise<unknown> = Promise.resolve();
  private readonly settings: Settings;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: OutboxRelayOptions,
  ) {
    this.settings = settingsOf(options);
  }

  /**
   * Publishes what is already waiting, then sleeps until woken: by a local commit
   * that wrote outbox rows (the unit of work's after-commit hook) or by another
   * process's commit (a PostgreSQL notification). Nothing polls.
   */
  start(): void {
    this.stopped = false;
    // Bound to the relay's own async context: a pass woken by a commit is not part of
    // the request or batch that committed (a tracer would file its queries under them).
    this.unsubscribe = onOutboxCommitted(this.dataSource, AsyncResource.bind(() => this.committedHere()));
    void this.listen();
    this.schedule(0);
  }

  /**
   * A transaction of this process wrote outbox rows and committed. While another
   * instance is known to hold the lock, it is only passed on (the lock is looked at
   * again on its own schedule); otherwise a pass runs.
   */
  private committedHere(): void {
    this.unforwarded = true;
    if (this.busyPasses > 0 && !this.running && !this.stopped) {
      this.forwarding ??= this.forwardCommits()
        .catch(() => this.wake())
        .finally(() => {
          this.forwarding = undefined;
        });
      return;
    }
    this.wake();
  }

  /** Asks for a pass now; a pass already running is followed by one more. */
  wake(): void {
    // While publishing fails, the backoff decides when to try again, not each commit.
    if (this.stopped || this.failures > 0) return;
    if (this.running) {
      this.pendingWake = true;
      return;
    }
    const wait = this.untilIntervalEnds();
    if (wait > 0 && this.wakeDeferred) return;
    this.wakeDeferred = wait > 0;
    this.schedule(wait);
  }

  /** Milliseconds until a pass may start again under `minPassIntervalMs` (0: now). */
  private untilIntervalEnds(): number {
    return Math.max(0, this.lastPassAt + this.settings.minPassIntervalMs - performance.now());
  }

  /** Stops and waits for the batch in flight, so nothing is half-published at shutdown. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.listenTimer);
    clearTimeout(this.deleteTimer);
    this.unsubscribe?.();
    await this.closeListener();
    await this.running;
    await this.draining;
    await this.forwarding;
    // Commits since the last pass would wait for the next one, which will not come: tell whoever publishes.
    if (this.unforwarded && !this.leader) await this.forwardCommits().catch(() => undefined);
    await this.resign();
  }

  /**
   * Publishes everything currently committed; returns how many messages went out.
   * Rejects, after deleting what was acknowledged, when a send failed for a
   * reason worth retrying; rows refused for good are parked and do not stop it.
   * Returns 0 at once when another relay of this database holds the lock.
   */
  async drain(): Promise<number> {
    try {
      const sent = await this.drainIfFree();
      return sent === 'busy' ? 0 : sent;
    } finally {
      // Called on its own (at shutdown, by a command): the lock is not kept.
      if (this.stopped) await this.resign();
    }
  }

  /** Rows waiting and how long the oldest has waited (0 when none), in one query: for the metrics. */
  async backlog(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const rows: { n: string; age: number | null }[] = await this.dataSource.query(
      'SELECT count(*) AS n, extract(epoch FROM clock_timestamp() - min(created_at))::float8 AS age FROM outbox',
    );
    return { pending: Number(rows[0]?.n ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
  }

  async pending(): Promise<number> {
    return (await this.backlog()).pending;
  }

  /** One drain at a time per relay: they share the leader's connection. */
  private drainIfFree(deferDelete = false): Promise<number | 'busy'> {
    return this.serially(() => this.drainAsLeader(deferDelete));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.draining.then(work);
    this.draining = run.catch(() => undefined);
    return run;
  }

  /** Acknowledged rows no pass's read took along are deleted on their own, once no pass came for a while. */
  private deleteLater(): void {
    if (this.deleteTimer || this.stopped) return;
    this.deleteTimer = setTimeout(() => {
      this.deleteTimer = undefined;
      void this.serially(async () => {
        const session = this.leader && !this.leaderBroken ? await this.lead() : undefined;
        if (session) await this.removeAcknowledged(session);
      }).catch((error: unknown) => {
        // Left for the next pass's read; a crash before it publishes them again (consumers absorb that).
        this.options.logger?.warn(`outbox relay could not delete published rows (${(error as Error).message}); the next pass will`);
      });
    }, this.settings.deleteDelayMs);
  }

  private async drainAsLeader(deferDelete: boolean): Promise<number | 'busy'> {
    const session = await this.lead();
    if (!session) return 'busy';
    // What this process committed so far is read below: there is nothing to pass on.
    this.unforwarded = false;
    try {
      let total = 0;
      for (;;) {
        const batch = await this.publishBatch(session);
        total += batch.published;
        if (batch.failure !== undefined) {
          await this.removeAcknowledged(session);
          throw batch.failure instanceof Error ? batch.failure : new Error('outbox relay: publish failed', { cause: batch.failure });
        }
        if (batch.full) continue;
        // The next pass's read deletes these: one follows at once when woken while publishing, or likely soon.
        if (!deferDelete || this.stopped) await this.removeAcknowledged(session);
        else if (!this.pendingWake) this.deleteLater();
        return total;
      }
    } catch (error) {
      // A database failure may have taken the connection, and the lock with it: start over next time.
      if (this.leaderBroken) await this.resign();
      throw error;
    }
  }

  /** The session holding the publishing lock: this relay's own, or a new one if the lock is free. */
  private async lead(): Promise<SqlSession | undefined> {
    if (!this.leader) {
      const client = new Client(this.connectionOptions());
      client.on('error', () => {
        if (this.leader === client) this.leaderBroken = true;
      });
      try {
        await client.connect();
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK]);
        if (rows[0]?.locked !== true) {
          await client.end().catch(() => undefined);
          return undefined;
        }
        // Its deletes need not wait for the disk: one lost in a database crash only
        // publishes that row again, which consumers absorb (inbox).
        await client.query('SET synchronous_commit = off');
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      this.leader = client;
      this.leaderBroken = false;
    }
    const leader = this.leader;
    return {
      query: async (sql, parameters) => {
        try {
          return (await leader.query(sql, parameters)).rows as unknown[];
        } catch (error) {
          this.leaderBroken = true;
          throw error;
        }
      },
    };
  }

  private async resign(): Promise<void> {
    const client = this.leader;
    this.leader = undefined;
    if (!client) return;
    if (!this.leaderBroken) await this.removeAcknowledged({ query: async (sql, parameters) => (await client.query(sql, parameters)).rows as unknown[] }).catch(() => undefined);
    // Rows not deleted are published again by whoever publishes next: consumers are idempotent.
    this.acknowledged = [];
    await client.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }

  /** The pool's own settings (address, timeouts, keepalive), so the relay's connections behave like every other. */
  private connectionOptions(): ClientConfig {
    return (this.dataSource.driver as unknown as { master: { options: ClientConfig } }).master.options;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.wakeDeferred = false;
      this.running = this.pass().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
  }

  private async pass(): Promise<void> {
    let next: number | undefined;
    try {
      this.pendingWake = false;
      this.lastPassAt = performance.now();
      const sent = await this.drainIfFree(true);
      if (sent === 'busy') {
        // Another instance publishes: pass our commits on to it, and look again now and
        // then (less often the longer it stays), to take over if it goes away.
        await this.forwardCommits();
        next = Math.min(this.settings.maxBackoffMs, this.settings.lockRetryMs * 2 ** this.busyPasses++);
      } else {
        this.busyPasses = 0;
        if (this.failures > 0) this.options.logger?.log(`outbox relay recovered; published ${sent} waiting event(s)`);
        this.failures = 0;
        if (this.pendingWake) next = this.untilIntervalEnds();
      }
    } catch (error) {
      this.failures++;
      next = Math.min(this.settings.maxBackoffMs, 100 * 2 ** this.failures);
      const waiting = await this.pending().catch(() => NaN);
      this.options.logger?.warn(
        `outbox relay could not publish (${(error as Error).message}); ${Number.isNaN(waiting) ? 'unknown' : waiting} event(s) waiting, retrying in ${next} ms`,
      );
    }
    if (!this.stopped && next !== undefined) this.schedule(next);
  }

  /**
   * Wakes the relay that holds the lock in another process (or on another
   * DataSource) for the commits of this one, with one notification sent after them.
   * The same statement asks whether anyone still holds the lock: when that relay
   * went away meanwhile, this one takes over now rather than on its schedule.
   */
  private async forwardCommits(): Promise<void> {
    let held = true;
    while (this.unforwarded) {
      this.unforwarded = false;
      try {
        const rows: { held: boolean }[] = await this.dataSource.query(
          `SELECT pg_notify($1, $2), EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND classid = $3 AND objid = $4 AND objsubid = 1) AS held`,
          [OUTBOX_CHANNEL, senderTag(this.dataSource), RELAY_LOCK_HIGH, RELAY_LOCK_LOW],
        );
        held = rows[0]?.held === true;
      } catch (error) {
        this.unforwarded = true;
        throw error;
      }
    }
    if (!held) this.wake();
  }

  /**
   * A connection of its own, outside the pool, LISTENs for other processes' commits.
   * When it is lost it is re-opened and a pass runs, in case a notification went by.
   */
  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client(this.connectionOptions());
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      void client.end().catch(() => undefined);
      if (!this.stopped) this.listenTimer = setTimeout(() => void this.listen(), this.settings.listenRetryMs);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.channel === OUTBOX_CHANNEL && message.payload !== senderTag(this.dataSource)) this.wake();
    });
    try {
      this.listener = client;
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (this.stopped) await this.closeListener();
      else this.wake();
    } catch (error) {
      if (this.listener === client) this.listener = undefined;
      await client.end().catch(() => undefined);
      if (this.stopped) return;
      this.options.logger?.warn(`outbox relay cannot listen for commits (${(error as Error).message}); retrying in ${this.settings.listenRetryMs} ms`);
      this.listenTimer = setTimeout(() => void this.listen(), this.settings.listenRetryMs);
    }
  }

  private async closeListener(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }

  private async readBatch(session: SqlSession): Promise<{ messages: OutboxMessage[]; full: boolean }> {
    const gone = this.acknowledged;
    // The DELETE and the SELECT share a snapshot, so the SELECT leaves the deleted rows out itself.
    const rows = (await session.query(
      gone.length === 0
        ? 'SELECT id, event_id, topic, message_key, headers, payload FROM outbox ORDER BY id LIMIT $1'
        : `WITH gone AS (DELETE FROM outbox WHERE id = ANY($2::bigint[]))
           SELECT id, event_id, topic, message_key, headers, payload FROM outbox WHERE id <> ALL($2::bigint[]) ORDER BY id LIMIT $1`,
      gone.length === 0 ? [this.settings.batchSize] : [this.settings.batchSize, gone],
    )) as OutboxRow[];
    if (this.acknowledged === gone) this.acknowledged = [];
    const messages: OutboxMessage[] = [];
    let bytes = 0;
    for (const r of rows) {
      const message = { id: r.id, eventId: r.event_id, topic: r.topic, key: r.message_key, headers: r.headers, value: r.payload };
      bytes += sizeOf(message);
      // The first row always goes, even alone over the cap: the broker decides whether it is too large.
      if (messages.length > 0 && bytes > this.settings.maxBatchBytes) return { messages, full: true };
      messages.push(message);
    }
    return { messages, full: rows.length === this.settings.batchSize };
  }

  private async publishBatch(session: SqlSession): Promise<BatchResult> {
    const { messages, full } = await this.readBatch(session);
    if (messages.length === 0) return { published: 0, full: false };
    const report = await this.send(messages);
    this.acknowledged.push(...report.acked.map((m) => m.id));
    let published = report.acked.length;
    let failure: unknown;
    for (const group of report.failed) {
      if (!isRefusal(group.error)) {
        failure ??= group.error;
        continue;
      }
      const isolated = await this.isolateRefusal(session, group.messages, group.error);
      published += isolated.published;
      failure ??= isolated.failure;
    }
    if (published > 0) this.options.onPublished?.(published);
    return { published, full, failure };
  }

  /** A rejection of the whole call is a report that every message failed with that error. */
  private async send(messages: OutboxMessage[]): Promise<PublishReport> {
    try {
      return (await this.options.publish(messages)) ?? { acked: messages, failed: [] };
    } catch (error) {
      return { acked: [], failed: [{ messages, error }] };
    }
  }

  /**
   * The broker refused a group: find the culprit by sending its rows one at a
   * time, in id order, parking each row refused on its own. Rows of the same key
   * after a parked one are still published: a parked row is the producer-side
   * twin of a dead letter; holding every later event of its key back would block
   * that order (or product) for good over one message that can never be sent.
   */
  private async isolateRefusal(session: SqlSession, messages: readonly OutboxMessage[], groupError: unknown): Promise<{ published: number; failure?: unknown }> {
    if (messages.length === 1) {
      await this.park(session, messages[0]!, groupError);
      return { published: 0 };
    }
    let published = 0;
    for (const message of messages) {
      const report = await this.send([message]);
      const error = report.failed[0]?.error;
      if (report.acked.some((m) => m.id === message.id)) {
        await this.remove(session, [message]);
        published++;
      } else if (isRefusal(error)) {
        await this.park(session, message, error);
      } else {
        // Stop at the first transient failure so the rows after it keep their order.
        return { published, failure: error ?? new Error(`outbox row ${message.id} was not acknowledged`) };
      }
    }
    return { published };
  }

  private async removeAcknowledged(session: SqlSession): Promise<void> {
    const ids = this.acknowledged;
    if (ids.length === 0) return;
    await session.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
    if (this.acknowledged === ids) this.acknowledged = [];
  }

  private async remove(session: SqlSession, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await session.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [messages.map((m) => m.id)]);
  }

  private async park(session: SqlSession, message: OutboxMessage, error: unknown): Promise<void> {
    const e = error as { message?: unknown; name?: unknown; code?: unknown } | null;
    const parked: ParkedMessage = {
      ...message,
      error: typeof e?.message === 'string' ? e.message : String(error),
      errorName: typeof e?.name === 'string' ? e.name : 'Error',
      ...(typeof e?.code === 'string' || typeof e?.code === 'number' ? { errorCode: String(e.code) } : {}),
    };
    // One statement: the row is either still in the outbox or parked, never both or neither.
    await session.query(
      `WITH moved AS (DELETE FROM outbox WHERE id = $1 RETURNING *)
       INSERT INTO outbox_parked (id, event_id, topic, message_key, headers, payload, created_at, error, error_name, error_code)
       SELECT id, event_id, topic, message_key, headers, payload, created_at, $2, $3, $4 FROM moved`,
      [message.id, parked.error, parked.errorName, parked.errorCode ?? null],
    );
    this.options.logger?.warn(
      `outbox relay parked event ${message.eventId} (outbox row ${message.id}, ${message.topic} key ${message.key}): ${parked.errorName}: ${parked.error}`,
    );
    this.options.onParked?.(parked);
  }
}
