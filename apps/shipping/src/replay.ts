import { replayCommand } from '@orderflow/service-kit';
import { ShippingConfigSchema } from './config';
import { shipmentDecider, type ShipmentEvent } from './shipment/shipment.decider';
import { ShipmentView } from './shipment/shipment.entity';
import { project } from './shipment/shipment.handler';
import { ShipmentsReadModel1763700000100 } from './shipment/shipments.migration';

replayCommand({
  name: 'shipping',
  configSchema: ShippingConfigSchema,
  migrations: [ShipmentsReadModel1763700000100],
  entities: [ShipmentView],
  projections: [
    {
      table: 'shipments',
      streamPrefix: 'shipment-',
      project: (tx, _stream, events) => {
        const shipmentEvents = events as ShipmentEvent[];
        const prepared = shipmentEvents.find((e) => e.type === 'ShipmentPrepared');
        const state = shipmentEvents.reduce(shipmentDecider.evolve, shipmentDecider.initialState());
        return project(tx, state, prepared?.type === 'ShipmentPrepared' ? prepared.data.carrier : '', new Date(events.at(-1)!.time));
      },
    },
  ],
});
