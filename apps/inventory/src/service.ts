import { Topics } from '@orderflow/contracts';
import type { ServiceDescription } from '@orderflow/service-kit';
import { InventoryConfigSchema } from './config';
import { inventoryEntities, inventoryMigrations } from './schema';
import { productStream, reservationStream } from './stock/stock.decider';
import { StockModule } from './stock/stock.module';
import { stockProjection } from './stock/stock.projection';

export const inventoryService: ServiceDescription<typeof InventoryConfigSchema> = {
  name: 'inventory',
  configSchema: InventoryConfigSchema,
  migrations: inventoryMigrations,
  entities: inventoryEntities,
  produces: [Topics.inventory, Topics.products],
  consumes: [Topics.orders],
  streamsOf: (event) => [reservationStream(event.subject)],
  // Product streams are long and a product's newest event is its whole state: only that is read.
  // The SKUs of a release or commit are in the reservation, read later; they are often loaded by then.
  lastEventsOf: (event) => (event.type === 'OrderPlaced' ? event.data.items.map((line) => productStream(line.sku)) : []),
  projections: [stockProjection],
  feature: StockModule,
};
