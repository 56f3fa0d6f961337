import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `confirmed_at` starts the CONFIRMED deadline. Orders already CONFIRMED get the
 * time of their OrderConfirmed event from the log (exact, unlike updated_at, which
 * every later recorded outcome moves forward).
 */
export class OrdersDeadlines1763700000200 implements MigrationInterface {
  name = 'OrdersDeadlines1763700000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE order_summaries ADD COLUMN confirmed_at timestamptz');
    await q.query(`
      UPDATE order_summaries s
         SET confirmed_at = (e.data->>'confirmedAt')::timestamptz
        FROM events e
       WHERE s.status = 'CONFIRMED' AND e.stream_id = 'order-' || s.order_id AND e.type = 'OrderConfirmed'`);
    // The sweeps look for the oldest orders of one status: keep them index scans.
    await q.query(`CREATE INDEX order_summaries_pending_deadline ON order_summaries (placed_at) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX order_summaries_confirmed_deadline ON order_summaries (confirmed_at) WHERE status = 'CONFIRMED'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX order_summaries_confirmed_deadline');
    await q.query('DROP INDEX order_summaries_pending_deadline');
    await q.query('ALTER TABLE order_summaries DROP COLUMN confirmed_at');
  }
}
