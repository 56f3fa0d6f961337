import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { ShippingConfigSchema } from './config';
import { shippingEntities, shippingMigrations } from './schema';
import { shipmentStream } from './shipment/shipment.decider';
import { ShipmentModule } from './shipment/shipment.module';

main({
  name: 'shipping',
  configSchema: ShippingConfigSchema,
  migrations: shippingMigrations,
  entities: shippingEntities,
  consumes: [Topics.orders],
  streamsOf: (event) => [shipmentStream(event.subject)],
  feature: ShipmentModule,
});
