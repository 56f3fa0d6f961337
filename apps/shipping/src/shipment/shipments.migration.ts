import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ShipmentsReadModel1763700000100 implements MigrationInterface {
  name = 'ShipmentsReadModel1763700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE shipments (
        order_id        text PRIMARY KEY,
        shipment_id     text NOT NULL,
        status          text NOT NULL,
        tracking_number text,
        carrier         text,
        pickup_at       timestamptz,
        updated_at      timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE shipments');
  }
}
