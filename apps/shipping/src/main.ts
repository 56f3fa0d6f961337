import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { ShippingConfigSchema } from './config';
import { ShipmentView } from './shipment/shipment.entity';
import { ShipmentModule } from './shipment/shipment.module';
import { ShipmentsReadModel1763700000100 } from './shipment/shipments.migration';

main({
  name: 'shipping',
  configSchema: ShippingConfigSchema,
  migrations: [ShipmentsReadModel1763700000100],
  entities: [ShipmentView],
  consumes: [Topics.orders],
  feature: ShipmentModule,
});
