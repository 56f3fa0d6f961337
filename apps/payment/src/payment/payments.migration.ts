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
