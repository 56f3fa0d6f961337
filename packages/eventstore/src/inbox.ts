import type { EntityManager } from 'typeorm';

/**
 * Records that `consumer` handled `eventId`, in the caller's transaction. Returns
 * false when it already had: the caller skips its effects, so a redelivered event
 * changes nothing.
 */
export async function claimInbox(tx: EntityManager, consumer: string, eventId: string): Promise<boolean> {
  return (await claimInboxBatch(tx, consumer, [eventId])).has(eventId.toLowerCase());
}

/**
 * `claimInbox` for a whole batch in one statement: returns the ids this call
 * claimed, in lower case (as PostgreSQL prints a uuid). An id already handled (a redelivery), or repeated within the batch
 * after its first occurrence, is not returned a second time by the caller's loop.
 */
/** The claim as SQL: `$1` the consumer, `$2` the event ids; returns the ids it claimed. Also a CTE of `preloadBatch`. */
export const INBOX_CLAIM = `INSERT INTO inbox (consumer, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS id
     ON CONFLICT DO NOTHING RETURNING event_id`;

export async function claimInboxBatch(tx: EntityManager, consumer: string, eventIds: readonly string[]): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const rows: { event_id: string }[] = await tx.query(INBOX_CLAIM, [consumer, eventIds]);
  return new Set(rows.map((r) => r.event_id));
}
