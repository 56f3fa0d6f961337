import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OrdersReadModels1763700000100 implements MigrationInterface {
  name = 'OrdersReadModels1763700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE order_summaries (
        order_id    text PRIMARY KEY,
        customer_id text   NOT NULL,
        status      text   NOT NULL,
        reason      text,
        items       jsonb  NOT NULL,
        total       bigint NOT NULL,
        currency    text   NOT NULL,
        placed_at   timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX order_summaries_customer ON order_summaries (customer_id, placed_at DESC)');
    await q.query(`
      CREATE TABLE idempotency_keys (
        customer_id  text NOT NULL,
        key          text NOT NULL,
        request_hash text NOT NULL,
        order_id     text NOT NULL,
        created_at   timestamptz NOT NULL,
        PRIMARY KEY (customer_id, key)
      )`);
    await q.query(`
      CREATE TABLE products (
        sku        text PRIMARY KEY,
        name       text    NOT NULL,
        unit_price bigint  NOT NULL,
        currency   text    NOT NULL,
        available  integer NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE products');
    await q.query('DROP TABLE idempotency_keys');
    await q.query('DROP TABLE order_summaries');
  }
}
