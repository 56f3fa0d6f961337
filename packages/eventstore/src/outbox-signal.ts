import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * How a relay learns that there is something to publish, without polling.
 *
 * In this process: the unit of work (`inTransaction`) calls the listeners of its
 * DataSource right after a transaction that wrote outbox rows committed.
 * In other processes (another instance of the service, the seed command): the
 * transaction that wrote the rows also sends a PostgreSQL notification, delivered
 * at commit (and only if it commits) to every relay listening on that database.
 * The payload names the sending DataSource (in a service: its process), so a relay
 * ignores the notifications of its own: the in-process hook already woke it. A
 * relay on another DataSource of the same process (a test's second instance) is
 * woken by them like one in another process.
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

export function outboxCommitted(dataSource: DataSource): void {
  for (const listener of listeners.get(dataSource) ?? []) listener();
}
