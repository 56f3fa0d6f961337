import { recordsetUpsert, upsertRow, type ProjectionRebuild } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { shipmentDecider, type ShipmentEvent, type ShipmentState } from './shipment.decider';
import { type ShipmentView } from './shipment.entity';

/** The row is a function of the state alone (carrier included), so a live projection and a replay agree. */
export async function project(tx: EntityManager, state: ShipmentState, now: Date): Promise<void> {
  if (state.status === 'NONE') return;
  // In a consumer batch, one upsert for all the batch's orders.
  await upsertRow(tx, shipments, state.orderId, shipmentRow(state, now));
}

const shipments = recordsetUpsert<ShipmentView>('shipments', 'order_id', [
  { name: 'order_id', type: 'text', value: (r) => r.orderId },
  { name: 'shipment_id', type: 'text', value: (r) => r.shipmentId },
  { name: 'status', type: 'text', value: (r) => r.status },
  { name: 'tracking_number', type: 'text', value: (r) => r.trackingNumber },
  { name: 'carrier', type: 'text', value: (r) => r.carrier },
  { name: 'pickup_at', type: 'timestamptz', value: (r) => r.pickupAt },
  { name: 'updated_at', type: 'timestamptz', value: (r) => r.updatedAt },
]);

function shipmentRow(state: Exclude<ShipmentState, { status: 'NONE' }>, updatedAt: Date): ShipmentView {
  const { orderId, status } = state;
  switch (state.status) {
    case 'PREPARED':
      return { orderId, status, shipmentId: state.shipmentId, trackingNumber: state.trackingNumber, carrier: state.carrier, pickupAt: null, updatedAt };
    case 'PICKUP_SCHEDULED':
      return {
        orderId,
        status,
        shipmentId: state.shipmentId,
        trackingNumber: state.trackingNumber,
        carrier: state.carrier,
        pickupAt: new Date(state.pickupAt),
        updatedAt,
      };
    case 'CANCELLED':
      return { orderId, status, shipmentId: state.shipmentId, trackingNumber: null, carrier: state.carrier, pickupAt: null, updatedAt };
    case 'VOIDED':
      return { orderId, status, shipmentId: null, trackingNumber: null, carrier: null, pickupAt: null, updatedAt };
    default: {
      const unknown: never = state;
      throw new Error(`unknown shipment state ${JSON.stringify(unknown)}`);
    }
  }
}

/** Rebuilds the shipments table from the shipment streams; a row is dated by its last event, as the live projection dates it by the time it decided. */
export const shipmentsProjection: ProjectionRebuild = {
  table: 'shipments',
  streamPrefix: 'shipment-',
  project: (tx, _stream, events) =>
    project(tx, (events as ShipmentEvent[]).reduce(shipmentDecider.evolve, shipmentDecider.initialState()), new Date(events.at(-1)!.time)),
};
