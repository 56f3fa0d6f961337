import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { InventoryConfigSchema } from './config';
import { inventoryMigrations, inventoryEntities } from './schema';
import { StockModule } from './stock/stock.module';

main({
  name: 'inventory',
  configSchema: InventoryConfigSchema,
  migrations: inventoryMigrations,
  entities: inventoryEntities,
  consumes: [Topics.orders],
  feature: StockModule,
});
