import type { EntityManager } from 'typeorm';

/**
 * Records that `consumer` handled `eventId`, in the caller's transaction. Returns
 * false when it already had: the caller skips its effects, so a redelivered event
 * changes nothing.
 */
export async function claimInbox(tx: EntityManager, consumer: string, eventId: string): Promise<boolean> {
  const rows: unknown[] = await tx.query(
    'INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id',
    [consumer, eventId],
  );
  return rows.length === 1;
}
