import { Topics } from '@orderflow/contracts';
import type { ServiceDescription } from '@orderflow/service-kit';
import { ShippingConfigSchema } from './config';
import { shippingEntities, shippingMigrations } from './schema';
import { shipmentStream } from './shipment/shipment.decider';
import { ShipmentModule } from './shipment/shipment.module';
import { shipmentsProjection } from './shipment/shipment.projection';

export const shippingService: ServiceDescription = {
  name: 'shipping',
  configSchema: ShippingConfigSchema,
  migrations: shippingMigrations,
  entities: shippingEntities,
  produces: [Topics.shipping],
  consumes: [Topics.orders],
  streamsOf: (event) => [shipmentStream(event.subject)],
  projections: [shipmentsProjection],
  feature: ShipmentModule,
};
