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

/** A voided shipment (cancelled before it was placed) never had a shipment id. */
export class ShipmentsVoided1763700000200 implements MigrationInterface {
  name = 'ShipmentsVoided1763700000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE shipments
        ALTER COLUMN shipment_id DROP NOT NULL,
        ADD CONSTRAINT shipments_id_unless_voided CHECK (status = 'VOIDED' OR shipment_id IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM shipments WHERE status = 'VOIDED'`);
    await q.query('ALTER TABLE shipments DROP CONSTRAINT shipments_id_unless_voided, ALTER COLUMN shipment_id SET NOT NULL');
  }
}
