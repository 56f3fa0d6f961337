import { eventStoreMigrations } from '@orderflow/eventstore';
import { StockView } from './stock/stock.entity';
import { StockReadModel1763700000100 } from './stock/stock.migration';

/** Own migrations (the event store's are added by the service kit). */
export const inventoryMigrations = [StockReadModel1763700000100];
export const inventoryEntities = [StockView];
/** Everything, for tools that open the database without the service kit. */
export const allInventoryMigrations = [...eventStoreMigrations, ...inventoryMigrations];
