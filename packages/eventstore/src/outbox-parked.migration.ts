import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox rows the broker refused for good (too large, unknown topic), moved out
 * of the outbox so they block nothing, with the refusal, for an operator to fix
 * and re-enqueue.
 */
export class OutboxParkedSchema1763800000000 implements MigrationInterface {
  name = 'OutboxParkedSchema1763800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox_parked (
        id          bigint      PRIMARY KEY,
        event_id    uuid        NOT NULL,
        topic       text        NOT NULL,
        message_key text        NOT NULL,
        headers     jsonb       NOT NULL,
        payload     text        NOT NULL,
        created_at  timestamptz NOT NULL,
        error       text        NOT NULL,
        error_name  text        NOT NULL,
        error_code  text,
        parked_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox_parked');
  }
}
