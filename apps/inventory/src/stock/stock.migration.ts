import type { MigrationInterface, QueryRunner } from 'typeorm';

export class StockReadModel1763700000100 implements MigrationInterface {
  name = 'StockReadModel1763700000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stock (
        sku        text PRIMARY KEY,
        name       text    NOT NULL,
        unit_price bigint  NOT NULL,
        currency   text    NOT NULL,
        stocked    integer NOT NULL CHECK (stocked >= 0),
        available  integer NOT NULL CHECK (available >= 0),
        reserved   integer NOT NULL CHECK (reserved >= 0),
        committed  integer NOT NULL CHECK (committed >= 0),
        updated_at timestamptz NOT NULL,
        CHECK (available + reserved + committed = stocked)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE stock');
  }
}
