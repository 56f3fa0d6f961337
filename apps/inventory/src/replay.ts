import { replayCommand } from '@orderflow/service-kit';
import { InventoryConfigSchema } from './config';
import { inventoryEntities, inventoryMigrations } from './schema';
import type { ProductEvent } from './stock/stock.decider';
import { projectProductStream } from './stock/stock.handler';

replayCommand({
  name: 'inventory',
  configSchema: InventoryConfigSchema,
  migrations: inventoryMigrations,
  entities: inventoryEntities,
  projections: [
    { table: 'stock', streamPrefix: 'product-', project: (tx, _stream, events) => projectProductStream(tx, events as ProductEvent[]) },
  ],
});
