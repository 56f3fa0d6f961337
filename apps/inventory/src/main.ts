import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { InventoryConfigSchema } from './config';
import { inventoryMigrations, inventoryEntities } from './schema';
import { reservationStream } from './stock/stock.decider';
import { StockModule } from './stock/stock.module';

main({
  name: 'inventory',
  configSchema: InventoryConfigSchema,
  migrations: inventoryMigrations,
  entities: inventoryEntities,
  consumes: [Topics.orders],
  // Product streams are long and only their last event is read: those are not read whole.
  streamsOf: (event) => [reservationStream(event.subject)],
  feature: StockModule,
});
