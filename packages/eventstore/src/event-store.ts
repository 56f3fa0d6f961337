import { EventCatalog, assertValidEvent, encodeEvent, type AnyEvent } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { ConcurrencyError, versionClashOf } from './errors';
import { holdUntilCommit } from './pipelined-transaction';
import { streamCacheOf } from './stream-cache';
import { onCommitted, runsAfterCommit } from './transaction';
import { INBOX_CLAIM, claimInboxBatch } from './inbox';
import { OUTBOX_CHANNEL, hasOutboxListener, outboxCommitted, senderTag } from './outbox-signal';
import { batchOf, combineWrites, inEventBatch, readModelWrites, recordsetInsert, type CachedStream, type EventBatch, type PendingRow, type RecordsetColumn, type WriteStatement } from './event-batch';

export interface StreamEvent {
  event: AnyEvent;
  /** Publish through the outbox? False for facts a service records but does not own (e.g. the saga's observations). */
  publish: boolean;
}

export interface LoadedStream {
  /** 0 when the stream does not exist yet. */
  version: number;
  events: AnyEvent[];
}

interface EventRow {
  stream_version: number;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, string>;
}

function toEvent(row: EventRow): AnyEvent {
  return { ...row.metadata, id: row.event_id, type: row.type, data: row.data } as unknown as AnyEvent;
}

function metadataOf(event: AnyEvent): Record<string, string> {
  const { id: _id, type: _type, data: _data, ...metadata } = event;
  return metadata;
}

/**
 * Strict where events are made: an event that breaks its contract is refused here,
 * before anything is written, instead of being dead-lettered by every consumer
 * downstream. InvalidEventError has no retry class: retrying cannot fix it.
 */
function assertValid(events: readonly AnyEvent[]): void {
  for (const event of events) assertValidEvent(event);
}

export async function readStream(tx: EntityManager, streamId: string): Promise<LoadedStream> {
  const batch = batchOf(tx);
  const cached = batch?.streams.get(streamId);
  if (cached?.stored) return { version: cached.storedVersion + cached.appended.length, events: [...cached.stored, ...cached.appended] };
  if (!batch) return selectStream(tx, streamId);
  const { storedVersion, stored, appended } = await readStreamWhole(tx, batch, streamId);
  return { version: storedVersion + appended.length, events: [...stored!, ...appended] };
}

async function selectStream(tx: EntityManager, streamId: string): Promise<LoadedStream> {
  const rows: EventRow[] = await tx.query(
    'SELECT stream_version, event_id, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version',
    [streamId],
  );
  return { version: rows.at(-1)?.stream_version ?? 0, events: rows.map(toEvent) };
}

/** Reads a stream whole into the batch (and the process's cache of committed streams). */
async function readStreamWhole(tx: EntityManager, batch: EventBatch, streamId: string): Promise<CachedStream> {
  const { version, events } = await selectStream(tx, streamId);
  streamCacheOf(tx.connection).set(streamId, { version, events });
  return rememberWholeStream(batch, streamId, version, events);
}

/**
 * Tells the unit of work that a stream does not exist yet because its id was made
 * just now (a random UUID), so its first `readStream` costs no round trip to learn
 * that it is empty. Were the id taken after all, the batch's insert would collide
 * with that stream's first (stream, version) key and the transaction would fail:
 * nothing is overwritten. Outside a batch it does nothing (the append checks).
 */
export function startStream(tx: EntityManager, streamId: string): void {
  const batch = batchOf(tx);
  if (!batch || batch.streams.has(streamId)) return;
  batch.streams.set(streamId, { storedVersion: 0, stored: [], appended: [] });
}

/** Keeps a stream read whole for the rest of the batch, with what the batch already appended to it (not in the database yet). */
function rememberWholeStream(batch: EventBatch, streamId: string, storedVersion: number, stored: AnyEvent[]): CachedStream {
  const entry = { storedVersion, stored, appended: batch.streams.get(streamId)?.appended ?? [] };
  batch.streams.set(streamId, entry);
  return entry;
}

/** What the first statement of a consumer batch loads (`preloadBatch`). */
export interface BatchPreload {
  /** Event ids to claim in the inbox for `consumer`; one handled before is not claimed again. */
  claim?: { consumer: string; eventIds: readonly string[] };
  /** Streams the batch's handlers read whole. */
  streams?: readonly string[];
  /** Streams of which they read only the newest event (aggregates whose every event carries their whole state). */
  lastEvents?: readonly string[];
}

/**
 * The start of a consumer batch in one round trip: claims its events in the inbox
 * and reads the streams its handlers will need, whole or only their newest event,
 * so each handler's `readStream` and `readLastEvent` is answered from memory.
 * Returns the ids it claimed, in lower case (as PostgreSQL prints a uuid).
 * Outside a batch there is nowhere to keep streams: it only claims.
 */
export async function preloadBatch(tx: EntityManager, preload: BatchPreload): Promise<Set<string>> {
  const batch = batchOf(tx);
  const { claim } = preload;
  if (!batch) return claim ? claimInboxBatch(tx, claim.consumer, claim.eventIds) : new Set();
  const whole = [...new Set(preload.streams ?? [])].filter((id) => !batch.streams.get(id)?.stored);
  const wholeSet = new Set(whole);
  // Whole streams this process knows up to some version are read from there on.
  const cache = streamCacheOf(tx.connection);
  const known = whole.map((id) => cache.get(id));
  const last = [...new Set(preload.lastEvents ?? [])].filter((id) => !batch.streams.has(id) && !wholeSet.has(id));
  if (whole.length === 0 && last.length === 0) return claim ? claimInboxBatch(tx, claim.consumer, claim.eventIds) : new Set();
  // Part 0: the ids claimed; 1: whole streams, in order; 2: the newest event of each
  // stream in `last`, found backwards on the (stream_id, stream_version) index however long the stream.
  // Each stream of part 1 is its own index lookup too (OFFSET 0 keeps the subquery from
  // being flattened into a join): as a join, a table without statistics yet (a new
  // database's first minute, before autovacuum analyzed it) was read whole and hashed
  // for every batch of a few dozen streams.
  const rows: (EventRow & { part: number; stream_id: string })[] = await tx.query(
    `WITH claimed AS (${INBOX_CLAIM})
     SELECT 0 AS part, NULL::text AS stream_id, NULL::int AS stream_version, event_id, NULL::text AS type, NULL::jsonb AS data, NULL::jsonb AS metadata FROM claimed
     UNION ALL
     SELECT 1, since.* FROM unnest($3::text[], $5::int[]) AS wanted(id, after) CROSS JOIN LATERAL (
       SELECT stream_id, stream_version, event_id, type, data, metadata FROM events
       WHERE stream_id = wanted.id AND stream_version > wanted.after OFFSET 0
     ) since
     UNION ALL
     SELECT 2, newest.* FROM unnest($4::text[]) AS wanted(id) CROSS JOIN LATERAL (
       SELECT stream_id, stream_version, event_id, type, data, metadata FROM events
       WHERE stream_id = wanted.id ORDER BY stream_version DESC LIMIT 1
     ) newest
     ORDER BY part, stream_id, stream_version`,
    [claim?.consumer ?? '', claim?.eventIds ?? [], whole, last, known.map((k) => k?.version ?? 0)],
  );
  const claimed = new Set<string>();
  const byStream = new Map<string, AnyEvent[]>(whole.map((id, i) => [id, [...(known[i]?.events ?? [])]]));
  const versions = new Map<string, number>(whole.flatMap((id, i) => (known[i] ? [[id, known[i].version] as const] : [])));
  for (const row of rows) {
    if (row.part === 0) claimed.add(row.event_id);
    else if (row.part === 1) {
      byStream.get(row.stream_id)?.push(toEvent(row));
      versions.set(row.stream_id, row.stream_version);
    } else batch.streams.set(row.stream_id, { storedVersion: row.stream_version, storedLast: toEvent(row), appended: [] });
  }
  for (const [streamId, stored] of byStream) {
    const version = versions.get(streamId) ?? 0;
    // Versions run 1..n without a gap; anything else (which only a cache gone wrong could give) is read again whole.
    if (stored.length !== version) {
      await readStreamWhole(tx, batch, streamId);
      continue;
    }
    rememberWholeStream(batch, streamId, version, stored);
    cache.set(streamId, { version, events: stored });
  }
  // A stream with no events yet is known whole: it is empty.
  for (const streamId of last) startStream(tx, streamId);
  return claimed;
}

/** The newest event of a stream, for aggregates whose every event carries their whole state. */
export async function readLastEvent(tx: EntityManager, streamId: string): Promise<{ version: number; event?: AnyEvent }> {
  const batch = batchOf(tx);
  const cached = batch?.streams.get(streamId);
  if (cached) {
    const last = cached.appended.at(-1) ?? cached.stored?.at(-1) ?? cached.storedLast;
    return { version: cached.storedVersion + cached.appended.length, ...(last ? { event: last } : {}) };
  }
  const rows: EventRow[] = await tx.query(
    'SELECT stream_version, event_id, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1',
    [streamId],
  );
  const row = rows[0];
  const event = row ? toEvent(row) : undefined;
  const version = row?.stream_version ?? 0;
  if (batch) batch.streams.set(streamId, { storedVersion: version, ...(event ? { storedLast: event } : version === 0 ? { stored: [] } : {}), appended: [] });
  return event ? { version, event } : { version };
}

/**
 * Appends to a stream, expecting it to be at `expectedVersion` (0 = new stream).
 * Events to publish go into the outbox in the same transaction, so they reach Kafka
 * if and only if this transaction commits.
 */
export async function appendToStream(
  tx: EntityManager,
  streamId: string,
  expectedVersion: number,
  events: readonly StreamEvent[],
): Promise<number> {
  if (events.length === 0) return expectedVersion;
  assertValid(events.map((e) => e.event));
  const batch = batchOf(tx);
  if (batch) {
    // Every write of a batch waits for its end, so outbox rows keep the order they were decided in.
    if (!batch.streams.has(streamId)) await readLastEvent(tx, streamId);
    return appendInBatch(batch, batch.streams.get(streamId)!, streamId, expectedVersion, events);
  }
  let inserted: unknown[];
  try {
    // The guard refuses an expected version ahead of the stream (a gap); one behind
    // it collides with the unique (stream_id, stream_version) key instead.
    inserted = await tx.query(
      `${EVENTS_INSERT}
       WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $2) = $3
       RETURNING 1`,
      [eventRows(events.map(({ event }, i) => ({ streamId, version: expectedVersion + i + 1, event }))), streamId, expectedVersion],
    );
  } catch (error) {
    const e = error as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
    const constraint = e.driverError?.constraint ?? e.constraint;
    if (constraint === 'events_stream_version_unique') throw new ConcurrencyError(streamId, expectedVersion);
    throw error;
  }
  if (inserted.length !== events.length) throw new ConcurrencyError(streamId, expectedVersion);
  await insertIntoOutbox(tx, events.filter((e) => e.publish).map((e) => e.event));
  return expectedVersion + events.length;
}

/** Writes events to the outbox; the relay publishes them after this transaction commits. */
export async function enqueueForPublishing(tx: EntityManager, events: readonly AnyEvent[]): Promise<void> {
  assertValid(events);
  const batch = batchOf(tx);
  if (batch) batch.outbox.push(...events);
  else await insertIntoOutbox(tx, events);
}

/**
 * An append to a stream this batch has read: checked against the cached version
 * (the database's, plus this batch's appends) and kept for the batch's one insert.
 */
function appendInBatch(batch: EventBatch, cached: CachedStream, streamId: string, expectedVersion: number, events: readonly StreamEvent[]): number {
  const current = cached.storedVersion + cached.appended.length;
  if (expectedVersion !== current) throw new ConcurrencyError(streamId, expectedVersion);
  events.forEach(({ event }, i) => batch.rows.push({ streamId, version: current + i + 1, event }));
  cached.appended.push(...events.map((e) => e.event));
  batch.outbox.push(...events.filter((e) => e.publish).map((e) => e.event));
  return current + events.length;
}

/**
 * Runs `work` as one unit of work in `tx`: each stream is read once, appends and
 * outbox rows are written at the end in one statement each, and read models
 * written with `upsertRow` in one statement each. A version conflict with another
 * transaction is a ConcurrencyError from the insert.
 */
export function withEventBatch<T>(tx: EntityManager, work: () => Promise<T>): Promise<T> {
  return inEventBatch(tx, work, flushBatch);
}

async function flushBatch(tx: EntityManager, batch: EventBatch): Promise<void> {
  for (const work of batch.beforeWrite.values()) await work();
  // Events, outbox rows and read-model rows go in one statement: one round trip per batch.
  const writes: WriteStatement[] = [];
  let next = 1;
  const add = (statement: WriteStatement) => {
    writes.push(statement);
    next += statement.parameters.length;
  };
  const { rows } = batch;
  if (rows.length > 0) {
    add({ sql: EVENTS_INSERT, parameters: [eventRows(rows)] });
  }
  const queued = batch.outbox.length > 0;
  if (queued) add(outboxInsert(batch.outbox, next));
  for (const statement of await readModelWrites(tx, batch, next)) add(statement);
  if (writes.length === 0) return;
  const { sql, parameters } = combineWrites(writes, queued ? outboxNotification(tx, next) : undefined);
  try {
    // Sent with the transaction's COMMIT where it can be: the batch writes nothing after it.
    await holdUntilCommit(tx, sql, parameters);
  } catch (error) {
    throw versionClashOf(error) ?? error;
  }
  if (queued) wakeRelayOnCommit(tx);
  rememberCommitted(tx, batch);
}

/** Once the batch's transaction committed, the streams it read whole and appended to are known as far as it wrote them. */
function rememberCommitted(tx: EntityManager, batch: EventBatch): void {
  const written = [...batch.streams].filter(([, s]) => s.stored && s.appended.length > 0);
  if (written.length === 0) return;
  const cache = streamCacheOf(tx.connection);
  onCommitted(tx, () => {
    for (const [streamId, s] of written) cache.set(streamId, { version: s.storedVersion + s.appended.length, events: [...s.stored!, ...s.appended] });
  });
}

const waking = new WeakSet<EntityManager>();

/** The unit of work's after-commit hook wakes this process's relay, once per transaction that wrote outbox rows. */
function wakeRelayOnCommit(tx: EntityManager): void {
  if (waking.has(tx)) return;
  waking.add(tx);
  onCommitted(tx, () => outboxCommitted(tx.connection));
}

const EVENT_COLUMNS: readonly RecordsetColumn[] = [
  { name: 'stream_id', type: 'text' },
  { name: 'stream_version', type: 'integer' },
  { name: 'event_id', type: 'uuid' },
  { name: 'type', type: 'text' },
  { name: 'data', type: 'jsonb' },
  { name: 'metadata', type: 'jsonb' },
];

/** Inserts the rows of `eventRows` (its one parameter, `$1`). */
const EVENTS_INSERT = recordsetInsert('events', EVENT_COLUMNS, 1);

/** The parameter of `EVENTS_INSERT`. */
const eventRows = (rows: readonly PendingRow[]): string =>
  JSON.stringify(
    rows.map(({ streamId, version, event }) => ({
      stream_id: streamId,
      stream_version: version,
      event_id: event.id,
      type: event.type,
      data: event.data,
      metadata: metadataOf(event),
    })),
  );

const OUTBOX_COLUMNS: readonly RecordsetColumn[] = [
  { name: 'event_id', type: 'uuid' },
  { name: 'topic', type: 'text' },
  { name: 'message_key', type: 'text' },
  { name: 'headers', type: 'jsonb' },
  // The message as encoded, kept to the byte: a JSON string here, not an object.
  { name: 'payload', type: 'text' },
];

/** The outbox rows of `events`, their one parameter numbered `$first`. */
function outboxInsert(events: readonly AnyEvent[], first: number): WriteStatement {
  const rows = events.map((event) => {
    const message = encodeEvent(event);
    return { event_id: event.id, topic: EventCatalog[event.type].topic, message_key: message.key, headers: message.headers, payload: message.value };
  });
  return {
    sql: recordsetInsert('outbox', OUTBOX_COLUMNS, first),
    parameters: [JSON.stringify(rows)],
  };
}

/**
 * Wakes the relays of other processes, unless this process's relay will hear of
 * the commit (a relay runs on this DataSource and `tx` has the after-commit hook)
 * and pass it on if it is not the one publishing (outbox-signal.ts). It rides in
 * the statement that writes the outbox rows and is delivered at commit, only if
 * the transaction commits; PostgreSQL folds repeats within one transaction into one.
 */
const outboxNotification = (tx: EntityManager, first: number): WriteStatement | undefined =>
  hasOutboxListener(tx.connection) && runsAfterCommit(tx)
    ? undefined
    : { sql: `SELECT pg_notify($${first}, $${first + 1})`, parameters: [OUTBOX_CHANNEL, senderTag(tx.connection)] };

async function insertIntoOutbox(tx: EntityManager, events: readonly AnyEvent[]): Promise<void> {
  if (events.length === 0) return;
  const insert = outboxInsert(events, 1);
  const { sql, parameters } = combineWrites([insert], outboxNotification(tx, 1 + insert.parameters.length));
  await tx.query(sql, parameters);
  wakeRelayOnCommit(tx);
}
