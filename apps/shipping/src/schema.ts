import { ShipmentView } from './shipment/shipment.entity';
import { ShipmentsReadModel1763700000100, ShipmentsVoided1763700000200 } from './shipment/shipments.migration';

/**
 * Own migrations and entities, part of `shippingService` (the event store's are added by
 * the service kit). Kept apart from `service.ts` so that integration tests can open a
 * database with them: jest cannot load Nest (ESM-only), which `service.ts` brings in
 * through the feature module and the config schema.
 */
export const shippingMigrations = [ShipmentsReadModel1763700000100, ShipmentsVoided1763700000200];
export const shippingEntities = [ShipmentView];
