import type { CombinableUpsert, WriteStatement } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';

/**
 * PostgreSQL channel on which the orders database announces orders whose stream
 * grew: every orders instance LISTENs, so a live stream served by one instance hears
 * of events another instance recorded. The payload is an order id.
 */
export const ORDER_CHANNEL = 'orderflow_orders_changed';

/**
 * The order summaries' upsert, announcing every order it writes in the same
 * statement (`RETURNING pg_notify`, one notification per order): so it still rides
 * in a batch's one combined write. The notifications are delivered at commit, and
 * only if the transaction commits.
 */
export function announcingOrders<Row extends { orderId: string }>(upsert: CombinableUpsert<Row>): CombinableUpsert<Row> {
  const statement = (rows: Row[], first: number): WriteStatement => {
    const { sql, parameters } = upsert.statement(rows, first);
    return { sql: `${sql} RETURNING pg_notify($${first + parameters.length}, order_id)`, parameters: [...parameters, ORDER_CHANNEL] };
  };
  return {
    table: upsert.table,
    write: async (tx: EntityManager, rows: Row[]) => {
      const { sql, parameters } = statement(rows, 1);
      await tx.query(sql, parameters);
    },
    statement,
  };
}
