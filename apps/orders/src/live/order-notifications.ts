import type { RowUpsert } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';

/**
 * PostgreSQL channel on which the orders database announces orders whose stream
 * grew: every orders instance LISTENs, so a live stream served by one instance hears
 * of events another instance recorded. The payload is a comma-separated list of ids.
 */
export const ORDER_CHANNEL = 'orderflow_orders_changed';

/** PostgreSQL refuses a notification payload of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_900;

/**
 * The order summaries' upsert, followed in the same transaction by one statement
 * that announces every order it wrote. A consumer batch writes its summaries once,
 * so this is one extra statement per batch; the notifications are delivered at
 * commit, and only if the transaction commits.
 */
export function announcingOrders<Row extends { orderId: string }>(upsert: RowUpsert<Row>): RowUpsert<Row> {
  return {
    table: upsert.table,
    write: async (tx: EntityManager, rows: Row[]) => {
      await upsert.write(tx, rows);
      await tx.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [ORDER_CHANNEL, payloads(rows.map((r) => r.orderId))]);
    },
  };
}

/** Order ids joined by commas, as few payloads as fit under PostgreSQL's limit. */
export function payloads(orderIds: readonly string[]): string[] {
  const out: string[] = [];
  let current = '';
  for (const id of orderIds) {
    if (current && Buffer.byteLength(current) + 1 + Buffer.byteLength(id) > MAX_PAYLOAD_BYTES) {
      out.push(current);
      current = '';
    }
    current = current ? `${current},${id}` : id;
  }
  if (current) out.push(current);
  return out;
}
