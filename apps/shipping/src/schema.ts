import { ShipmentView } from './shipment/shipment.entity';
import { ShipmentsReadModel1763700000100, ShipmentsVoided1763700000200 } from './shipment/shipments.migration';

/** Own migrations and entities, shared by the service and the replay command (the event store's are added by the service kit). */
export const shippingMigrations = [ShipmentsReadModel1763700000100, ShipmentsVoided1763700000200];
export const shippingEntities = [ShipmentView];
