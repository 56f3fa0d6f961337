import type { DomainEvent } from '@orderflow/contracts';
import { DomainError, type Decider } from '@orderflow/eventstore';

export type ShipmentEvent = DomainEvent<'ShipmentPrepared' | 'PickupScheduled' | 'ShipmentCancelled'>;

export type ShipmentState =
  | { status: 'NONE' }
  | { status: 'PREPARED'; orderId: string; shipmentId: string; trackingNumber: string }
  | { status: 'PICKUP_SCHEDULED'; orderId: string; shipmentId: string; trackingNumber: string; pickupAt: string }
  | { status: 'CANCELLED'; orderId: string; shipmentId: string };

export type ShipmentCommand =
  | { type: 'PrepareShipment'; orderId: string; shipmentId: string; trackingNumber: string; carrier: string; at: Date }
  | { type: 'SchedulePickup'; orderId: string; pickupAt: Date; at: Date }
  | { type: 'CancelShipment'; orderId: string; at: Date };

export const initialState = (): ShipmentState => ({ status: 'NONE' });

export function decide(command: ShipmentCommand, state: ShipmentState): ShipmentEvent[] {
  switch (command.type) {
    case 'PrepareShipment':
      if (state.status !== 'NONE') return [];
      return [
        {
          type: 'ShipmentPrepared',
          data: {
            orderId: command.orderId,
            shipmentId: command.shipmentId,
            carrier: command.carrier,
            trackingNumber: command.trackingNumber,
            preparedAt: command.at.toISOString(),
          },
        },
      ];
    case 'SchedulePickup':
      if (state.status === 'NONE') {
        throw new DomainError('ILLEGAL_STATE', `order ${command.orderId} has no prepared shipment to pick up`);
      }
      // Already scheduled, or the order was cancelled first: nothing to do.
      if (state.status !== 'PREPARED') return [];
      return [
        {
          type: 'PickupScheduled',
          data: {
            orderId: command.orderId,
            shipmentId: state.shipmentId,
            pickupAt: command.pickupAt.toISOString(),
            scheduledAt: command.at.toISOString(),
          },
        },
      ];
    case 'CancelShipment':
      if (state.status !== 'PREPARED' && state.status !== 'PICKUP_SCHEDULED') return [];
      return [
        {
          type: 'ShipmentCancelled',
          data: { orderId: command.orderId, shipmentId: state.shipmentId, cancelledAt: command.at.toISOString() },
        },
      ];
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

export function evolve(state: ShipmentState, event: ShipmentEvent): ShipmentState {
  switch (event.type) {
    case 'ShipmentPrepared':
      return {
        status: 'PREPARED',
        orderId: event.data.orderId,
        shipmentId: event.data.shipmentId,
        trackingNumber: event.data.trackingNumber,
      };
    case 'PickupScheduled':
      return state.status === 'PREPARED' ? { ...state, status: 'PICKUP_SCHEDULED', pickupAt: event.data.pickupAt } : state;
    case 'ShipmentCancelled':
      return { status: 'CANCELLED', orderId: event.data.orderId, shipmentId: event.data.shipmentId };
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

export const shipmentDecider: Decider<ShipmentState, ShipmentCommand, ShipmentEvent> = { initialState, decide, evolve };

export const shipmentStream = (orderId: string): string => `shipment-${orderId}`;
