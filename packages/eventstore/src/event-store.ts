import { EventCatalog, assertValidEvent, encodeEvent, type AnyEvent } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { ConcurrencyError } from './errors';
import { OUTBOX_CHANNEL, PROCESS_TAG, markOutboxWritten } from './outbox-signal';

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
  const rows: EventRow[] = await tx.query(
    'SELECT stream_version, event_id, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version',
    [streamId],
  );
  return { version: rows.at(-1)?.stream_version ?? 0, events: rows.map(toEvent) };
}

/** The newest event of a stream, for aggregates whose every event carries their whole state. */
export async function readLastEvent(tx: EntityManager, streamId: string): Promise<{ version: number; event?: AnyEvent }> {
  const rows: EventRow[] = await tx.query(
    'SELECT stream_version, event_id, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1',
    [streamId],
  );
  const row = rows[0];
  return row ? { version: row.stream_version, event: toEvent(row) } : { version: 0 };
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
  const rows = events.map((e, i) => [streamId, expectedVersion + i + 1, e.event.id, e.event.type, JSON.stringify(e.event.data), JSON.stringify(metadataOf(e.event))]);
  let inserted: unknown[];
  try {
    // The guard refuses an expected version ahead of the stream (a gap); one behind
    // it collides with the unique (stream_id, stream_version) key instead.
    inserted = await tx.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata)
       SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])
       WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $7) = $8
       RETURNING 1`,
      [...[0, 1, 2, 3, 4, 5].map((col) => rows.map((r) => r[col])), streamId, expectedVersion],
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
  await insertIntoOutbox(tx, events);
}

async function insertIntoOutbox(tx: EntityManager, events: readonly AnyEvent[]): Promise<void> {
  if (events.length === 0) return;
  const wire = events.map((event) => ({ event, message: encodeEvent(event) }));
  // The notification rides in the same statement and is delivered at commit, only if
  // the transaction commits; PostgreSQL folds repeats within one transaction into one.
  await tx.query(
    `WITH queued AS (
       INSERT INTO outbox (event_id, topic, message_key, headers, payload)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::text[])
     )
     SELECT pg_notify($6, $7)`,
    [
      wire.map((w) => w.event.id),
      wire.map((w) => EventCatalog[w.event.type].topic),
      wire.map((w) => w.message.key),
      wire.map((w) => JSON.stringify(w.message.headers)),
      wire.map((w) => w.message.value),
      OUTBOX_CHANNEL,
      PROCESS_TAG,
    ],
  );
  markOutboxWritten(tx);
}
