import type { AnyEvent } from '@orderflow/contracts';
import type { DataSource, EntityManager } from 'typeorm';

interface Row {
  stream_id: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, string>;
}

/** Visits every stream whose id starts with `prefix`, with all its events in version order, a page of streams at a time. */
export async function forEachStream(
  tx: EntityManager,
  prefix: string,
  visit: (streamId: string, events: AnyEvent[]) => Promise<void>,
  pageSize = 500,
): Promise<number> {
  let after = '';
  let visited = 0;
  for (;;) {
    const page: { stream_id: string }[] = await tx.query(
      `SELECT DISTINCT stream_id FROM events WHERE starts_with(stream_id, $1) AND stream_id > $2 ORDER BY stream_id LIMIT $3`,
      [prefix, after, pageSize],
    );
    if (page.length === 0) return visited;
    const rows: Row[] = await tx.query(
      'SELECT stream_id, event_id, type, data, metadata FROM events WHERE stream_id = ANY($1) ORDER BY stream_id, stream_version',
      [page.map((p) => p.stream_id)],
    );
    const byStream = new Map<string, AnyEvent[]>();
    for (const r of rows) {
      const list = byStream.get(r.stream_id) ?? [];
      list.push({ ...r.metadata, id: r.event_id, type: r.type, data: r.data } as unknown as AnyEvent);
      byStream.set(r.stream_id, list);
    }
    for (const [streamId, events] of byStream) await visit(streamId, events);
    visited += byStream.size;
    after = page.at(-1)!.stream_id;
  }
}

export interface ProjectionRebuild {
  /** The read-model table, emptied and refilled. */
  table: string;
  /** Streams it is built from, e.g. `order-`. */
  streamPrefix: string;
  project: (tx: EntityManager, streamId: string, events: AnyEvent[]) => Promise<void>;
}

/**
 * Rebuilds a read model from the event log in one transaction. The table is locked
 * first, so handlers wait rather than interleave, and readers keep seeing the old
 * rows until the new ones commit.
 */
export async function rebuildProjection(dataSource: DataSource, rebuild: ProjectionRebuild): Promise<number> {
  if (!/^[a-z_][a-z0-9_]*$/.test(rebuild.table)) throw new Error(`invalid table name ${rebuild.table}`);
  return dataSource.transaction(async (tx) => {
    await tx.query(`LOCK TABLE ${rebuild.table} IN EXCLUSIVE MODE`);
    await tx.query(`DELETE FROM ${rebuild.table}`);
    return forEachStream(tx, rebuild.streamPrefix, (streamId, events) => rebuild.project(tx, streamId, events));
  });
}
