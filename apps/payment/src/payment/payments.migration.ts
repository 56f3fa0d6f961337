import type { MigrationInterface, QueryRunner } from 'typeorm';

export class PaymentsReadModel1763700000100 implements MigrationInterface {
  name = 'PaymentsReadModel1763700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payments (
        order_id   text PRIMARY KEY,
        payment_id text,
        status     text   NOT NULL,
        amount     bigint NOT NULL,
        currency   text   NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE payments');
  }
}

/** A voided payment (cancelled before it was placed) has no amount or currency. */
export class PaymentsVoided1763700000200 implements MigrationInterface {
  name = 'PaymentsVoided1763700000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE payments
        ALTER COLUMN amount DROP NOT NULL,
        ALTER COLUMN currency DROP NOT NULL,
        ADD CONSTRAINT payments_amount_unless_voided
          CHECK (status = 'VOIDED' OR (amount IS NOT NULL AND currency IS NOT NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM payments WHERE status = 'VOIDED'`);
    await q.query(`
      ALTER TABLE payments
        DROP CONSTRAINT payments_amount_unless_voided,
        ALTER COLUMN amount SET NOT NULL,
        ALTER COLUMN currency SET NOT NULL`);
  }
}
