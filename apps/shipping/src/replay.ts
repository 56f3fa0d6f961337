import { replayCommand } from '@orderflow/service-kit';
import { ShippingConfigSchema } from './config';
import { shippingEntities, shippingMigrations } from './schema';
import { shipmentsProjection } from './shipment/shipment.projection';

replayCommand({
  name: 'shipping',
  configSchema: ShippingConfigSchema,
  migrations: shippingMigrations,
  entities: shippingEntities,
  projections: [shipmentsProjection],
});
