import type { DomainEvent } from '@orderflow/contracts';
import { DomainError, type Decider } from '@orderflow/domain';

export type ShipmentEvent = DomainEvent<'ShipmentPrepared' | 'PickupScheduled' | 'ShipmentCancelled' | 'ShipmentVoided'>;

export type ShipmentState =
  | { status: 'NONE' }
  | { status: 'PREPARED'; orderId: string; shipmentId: string; trackingNumber: string; carrier: string }
  | { status: 'PICKUP_SCHEDULED'; orderId: string; shipmentId: string; trackingNumber: string; carrier: string; pickupAt: string }
  | { status: 'CANCELLED'; orderId: string; shipmentId: string; carrier: string | null }
  /** Tombstone: cancelled before shipping saw the order placed; no label, and none will be prepared. */
  | { status: 'VOIDED'; orderId: string };

export type ShipmentCommand =
  | { type: 'PrepareShipment'; orderId: string; shipmentId: string; trackingNumber: string; carrier: string; at: Date }
  | { type: 'SchedulePickup'; orderId: string; pickupAt: Date; at: Date }
  | { type: 'CancelShipment'; orderId: string; at: Date };

export const initialState = (): ShipmentState => ({ status: 'NONE' });

export function decide(command: ShipmentCommand, state: ShipmentState): ShipmentEvent[] {
  switch (command.type) {
    case 'PrepareShipment':
      // Prepared, cancelled or voided already: a redelivered or late OrderPlaced prepares nothing.
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
      // Cancelled before the order reached shipping: record it, so the late OrderPlaced prepares no label.
      if (state.status === 'NONE') return [{ type: 'ShipmentVoided', data: { orderId: command.orderId, voidedAt: command.at.toISOString() } }];
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
    case 'ShipmentPrepared': {
      const { orderId, shipmentId, trackingNumber, carrier } = event.data;
      return { status: 'PREPARED', orderId, shipmentId, trackingNumber, carrier };
    }
    case 'PickupScheduled': {
      if (state.status !== 'PREPARED') return state;
      const { orderId, shipmentId, trackingNumber, carrier } = state;
      return { status: 'PICKUP_SCHEDULED', orderId, shipmentId, trackingNumber, carrier, pickupAt: event.data.pickupAt };
    }
    case 'ShipmentCancelled': {
      // The carrier is the one the label was prepared with: the state remembers it, not the configuration.
      const carrier = state.status === 'PREPARED' || state.status === 'PICKUP_SCHEDULED' ? state.carrier : null;
      return { status: 'CANCELLED', orderId: event.data.orderId, shipmentId: event.data.shipmentId, carrier };
    }
    case 'ShipmentVoided':
      return { status: 'VOIDED', orderId: event.data.orderId };
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

export const shipmentDecider: Decider<ShipmentState, ShipmentCommand, ShipmentEvent> = { initialState, decide, evolve };

export const shipmentStream = (orderId: string): string => `shipment-${orderId}`;
