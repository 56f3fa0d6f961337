import { toEnvelope, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { decideAndAppend } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { shipmentDecider, shipmentStream, type ShipmentCommand } from './shipment.decider';
import { project } from './shipment.projection';
import { shipmentIdFor } from './shipment-id';

export interface ShippingPolicy {
  carrier: string;
  pickupLeadHours: number;
}

const SOURCE = 'orderflow/shipping';

/**
 * Reacts to order events: load the shipment, decide, append, and refresh its read
 * model, all in `tx`. Time comes from the caller and the shipment id from the
 * causing event, so the same inputs always decide the same events.
 */
export async function reactToOrderEvent(
  tx: EntityManager,
  event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderConfirmed'> | EventEnvelope<'OrderCancelled'>,
  policy: ShippingPolicy,
  now: Date,
): Promise<AnyEvent[]> {
  const command = commandFor(event, policy, now);
  const { state, appended } = await decideAndAppend(tx, shipmentStream(command.orderId), shipmentDecider, command, (e) =>
    toEnvelope(e, { source: SOURCE, time: now, causedBy: event }),
  );
  if (appended.length > 0) await project(tx, state, now);
  return appended;
}

function commandFor(
  event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderConfirmed'> | EventEnvelope<'OrderCancelled'>,
  policy: ShippingPolicy,
  now: Date,
): ShipmentCommand {
  const orderId = event.data.orderId;
  switch (event.type) {
    case 'OrderPlaced':
      return {
        type: 'PrepareShipment',
        orderId,
        shipmentId: shipmentIdFor(event.id),
        trackingNumber: trackingNumberFor(orderId),
        carrier: policy.carrier,
        at: now,
      };
    case 'OrderConfirmed':
      return { type: 'SchedulePickup', orderId, pickupAt: new Date(now.getTime() + policy.pickupLeadHours * 3_600_000), at: now };
    case 'OrderCancelled':
      return { type: 'CancelShipment', orderId, at: now };
  }
}

/** Deterministic per order, so a label reprinted for the same order keeps its number. */
function trackingNumberFor(orderId: string): string {
  return `TRK${orderId.replace(/-/g, '').slice(0, 12).toUpperCase()}`;
}
