import { randomUUID } from 'node:crypto';
import { toEnvelope, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { decideAndAppend } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { shipmentDecider, shipmentStream, type ShipmentCommand, type ShipmentState } from './shipment.decider';
import { ShipmentView } from './shipment.entity';

export interface ShippingPolicy {
  carrier: string;
  pickupLeadHours: number;
}

const SOURCE = 'orderflow/shipping';

/** Reacts to order events: load the shipment, decide, append, and refresh its read model, all in `tx`. */
export async function reactToOrderEvent(
  tx: EntityManager,
  event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderConfirmed'> | EventEnvelope<'OrderCancelled'>,
  policy: ShippingPolicy,
  now: Date = new Date(),
): Promise<AnyEvent[]> {
  const command = commandFor(event, policy, now);
  const { state, appended } = await decideAndAppend(tx, shipmentStream(command.orderId), shipmentDecider, command, (e) =>
    toEnvelope(e, { source: SOURCE, time: now, causedBy: event }),
  );
  if (appended.length > 0) await project(tx, state, policy.carrier, now);
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
        shipmentId: randomUUID(),
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

export async function project(tx: EntityManager, state: ShipmentState, carrier: string, now: Date): Promise<void> {
  if (state.status === 'NONE') return;
  await tx.getRepository(ShipmentView).upsert(
    {
      orderId: state.orderId,
      shipmentId: state.shipmentId,
      status: state.status,
      trackingNumber: state.status === 'CANCELLED' ? null : state.trackingNumber,
      carrier,
      pickupAt: state.status === 'PICKUP_SCHEDULED' ? new Date(state.pickupAt) : null,
      updatedAt: now,
    },
    ['orderId'],
  );
}
