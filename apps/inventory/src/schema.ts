import { StockView } from './stock/stock.entity';
import { StockReadModel1763700000100 } from './stock/stock.migration';

/**
 * Own migrations and entities, part of `inventoryService` (the event store's are added by
 * the service kit). Kept apart from `service.ts` so that integration tests can open a
 * database with them: jest cannot load Nest (ESM-only), which `service.ts` brings in
 * through the feature module and the config schema.
 */
export const inventoryMigrations = [StockReadModel1763700000100];
export const inventoryEntities = [StockView];
