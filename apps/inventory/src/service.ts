import { Topics } from '@orderflow/contracts';
import type { ServiceDescription } from '@orderflow/service-kit';
import { InventoryConfigSchema } from './config';
import { inventoryEntities, inventoryMigrations } from './schema';
import { reservationStream } from './stock/stock.decider';
import { StockModule } from './stock/stock.module';
import { stockProjection } from './stock/stock.projection';

export const inventoryService: ServiceDescription<typeof InventoryConfigSchema> = {
  name: 'inventory',
  configSchema: InventoryConfigSchema,
  migrations: inventoryMigrations,
  entities: inventoryEntities,
  produces: [Topics.inventory, Topics.products],
  consumes: [Topics.orders],
  // Product streams are long and only their last event is read: those are not read whole.
  streamsOf: (event) => [reservationStream(event.subject)],
  projections: [stockProjection],
  feature: StockModule,
};
