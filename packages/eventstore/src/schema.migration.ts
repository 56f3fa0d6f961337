import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables every service's database shares in shape: the append-only event log,
 * the transactional outbox and the consumer inbox.
 */
export class EventStoreSchema1763700000000 implements MigrationInterface {
  name = 'EventStoreSchema1763700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        global_position bigserial PRIMARY KEY,
        stream_id       text        NOT NULL,
        stream_version  integer     NOT NULL,
        event_id        uuid        NOT NULL UNIQUE,
        type            text        NOT NULL,
        data            jsonb       NOT NULL,
        metadata        jsonb       NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    // Rows are deleted once published: a relay never tails a sequence, so a
    // transaction that commits late with a lower id is still picked up.
    await q.query(`
      CREATE TABLE outbox (
        id          bigserial   PRIMARY KEY,
        event_id    uuid        NOT NULL,
        topic       text        NOT NULL,
        message_key text        NOT NULL,
        headers     jsonb       NOT NULL,
        payload     text        NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE inbox (
        consumer     text        NOT NULL,
        event_id     uuid        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE inbox');
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE events');
  }
}
