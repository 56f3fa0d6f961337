import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * How a relay learns that there is something to publish, without polling.
 *
 * In this process: the unit of work (`inTransaction`) calls the listeners of its
 * DataSource right after a transaction that wrote outbox rows committed.
 * In other processes: a PostgreSQL notification on this channel, delivered to
 * every relay listening on that database. A notification costs the database and
 * every listening process a wake-up, so it is sent only where the local hook does
 * not reach the relay that publishes:
 * - a DataSource with no relay of its own running (the seed command, a test's
 *   writer) sends it from the transaction that wrote the rows, delivered at commit
 *   and only if it commits;
 * - a relay that finds another instance holding the publishing lock passes its
 *   process's commits on with one notification after them (`OutboxRelay`).
 * The relay that publishes sends none for its own process's commits: nobody else
 * needs them. The payload names the sending DataSource (in a service: its
 * process), so a relay ignores its own; a relay on another DataSource of the same
 * process (a test's second instance) is woken by them like one in another process.
 */
export const OUTBOX_CHANNEL = 'orderflow_outbox';

const tags = new WeakMap<DataSource, string>();

/** Identifies a DataSource (its relay and its commits) in outbox notifications. */
export function senderTag(dataSource: DataSource): string {
  let tag = tags.get(dataSource);
  if (!tag) tags.set(dataSource, (tag = randomUUID()));
  return tag;
}

const listeners = new WeakMap<DataSource, Set<() => void>>();

/** Calls `listener` after each local transaction on `dataSource` that wrote outbox rows committed. Returns an unsubscribe. */
export function onOutboxCommitted(dataSource: DataSource, listener: () => void): () => void {
  let set = listeners.get(dataSource);
  if (!set) listeners.set(dataSource, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/** Whether a relay of this DataSource is running here, so its commits need not notify other processes themselves. */
export function hasOutboxListener(dataSource: DataSource): boolean {
  return (listeners.get(dataSource)?.size ?? 0) > 0;
}

export function outboxCommitted(dataSource: DataSource): void {
  for (const listener of listeners.get(dataSource) ?? []) listener();
}
