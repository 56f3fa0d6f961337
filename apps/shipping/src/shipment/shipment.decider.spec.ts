import { DomainError } from '@orderflow/eventstore';
import { decide, evolve, initialState, type ShipmentCommand, type ShipmentEvent, type ShipmentState } from './shipment.decider';

const ORDER_ID = 'order-1';
const at = new Date('2025-03-01T10:00:00.000Z');
const pickupAt = new Date('2025-03-02T09:00:00.000Z');

const prepare: ShipmentCommand = {
  type: 'PrepareShipment',
  orderId: ORDER_ID,
  shipmentId: 'shipment-1',
  trackingNumber: 'TRK-0001',
  carrier: 'acme-post',
  at,
};
const schedule: ShipmentCommand = { type: 'SchedulePickup', orderId: ORDER_ID, pickupAt, at };
const cancel: ShipmentCommand = { type: 'CancelShipment', orderId: ORDER_ID, at };

const prepared: ShipmentEvent = {
  type: 'ShipmentPrepared',
  data: { orderId: ORDER_ID, shipmentId: 'shipment-1', carrier: 'acme-post', trackingNumber: 'TRK-0001', preparedAt: at.toISOString() },
};
const scheduled: ShipmentEvent = {
  type: 'PickupScheduled',
  data: { orderId: ORDER_ID, shipmentId: 'shipment-1', pickupAt: pickupAt.toISOString(), scheduledAt: at.toISOString() },
};
const cancelled: ShipmentEvent = {
  type: 'ShipmentCancelled',
  data: { orderId: ORDER_ID, shipmentId: 'shipment-1', cancelledAt: at.toISOString() },
};

const stateAfter = (history: readonly ShipmentEvent[]): ShipmentState => history.reduce(evolve, initialState());
const given = (...history: ShipmentEvent[]) => ({
  when: (command: ShipmentCommand): ShipmentEvent[] => decide(command, stateAfter(history)),
});

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused');
}

describe('shipment decider', () => {
  describe('preparing', () => {
    it('prepares a label for a new order', () => {
      expect(given().when(prepare)).toEqual([prepared]);
      expect(stateAfter([prepared])).toEqual({
        status: 'PREPARED',
        orderId: ORDER_ID,
        shipmentId: 'shipment-1',
        trackingNumber: 'TRK-0001',
      });
    });

    it('prepares only once when the order is delivered twice', () => {
      expect(given(prepared).when(prepare)).toEqual([]);
    });

    it('does not prepare again after the shipment was cancelled', () => {
      expect(given(prepared, cancelled).when(prepare)).toEqual([]);
    });
  });

  describe('scheduling the pickup', () => {
    it('schedules the pickup of a prepared shipment', () => {
      expect(given(prepared).when(schedule)).toEqual([scheduled]);
      expect(stateAfter([prepared, scheduled])).toMatchObject({ status: 'PICKUP_SCHEDULED', pickupAt: pickupAt.toISOString() });
    });

    it('schedules only once', () => {
      expect(given(prepared, scheduled).when(schedule)).toEqual([]);
    });

    it('does nothing when the shipment was cancelled first', () => {
      expect(given(prepared, cancelled).when(schedule)).toEqual([]);
    });

    it('refuses to schedule a pickup when no shipment was prepared', () => {
      const error = thrownBy(() => given().when(schedule));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'ILLEGAL_STATE' });
    });
  });

  describe('cancelling', () => {
    it('voids a prepared label', () => {
      expect(given(prepared).when(cancel)).toEqual([cancelled]);
      expect(stateAfter([prepared, cancelled])).toEqual({ status: 'CANCELLED', orderId: ORDER_ID, shipmentId: 'shipment-1' });
    });

    it('voids a shipment whose pickup was already scheduled', () => {
      expect(given(prepared, scheduled).when(cancel)).toEqual([cancelled]);
    });

    it('cancels only once', () => {
      expect(given(prepared, cancelled).when(cancel)).toEqual([]);
      expect(given(prepared, scheduled, cancelled).when(cancel)).toEqual([]);
    });

    it('has nothing to cancel when no shipment was prepared', () => {
      expect(given().when(cancel)).toEqual([]);
    });
  });
});
