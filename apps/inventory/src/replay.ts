import { replayCommand } from '@orderflow/service-kit';
import { InventoryConfigSchema } from './config';
import { inventoryEntities, inventoryMigrations } from './schema';
import { stockProjection } from './stock/stock.projection';

replayCommand({
  name: 'inventory',
  configSchema: InventoryConfigSchema,
  migrations: inventoryMigrations,
  entities: inventoryEntities,
  projections: [stockProjection],
});
