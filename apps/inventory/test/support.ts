import { eventStoreMigrations, openScratchDatabase, type ScratchDatabase } from '@orderflow/eventstore';
import type { DataSource } from 'typeorm';
import { inventoryEntities, inventoryMigrations } from '../src/schema';

const SERVER_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432';

export type TestDatabase = ScratchDatabase;

/** A fresh database with the service's own migrations, `orderflow_it_inventory_<random>`; `drop()` closes and drops it. */
export const createTestDatabase = (): Promise<TestDatabase> =>
  openScratchDatabase({
    url: SERVER_URL,
    namePrefix: 'orderflow_it_inventory',
    migrations: [...eventStoreMigrations, ...inventoryMigrations],
    entities: inventoryEntities,
    poolSize: 2,
  });

/** Type and data of every event of a stream, in order. */
export async function streamEvents(dataSource: DataSource, streamId: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  return dataSource.query('SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_version', [streamId]);
}
