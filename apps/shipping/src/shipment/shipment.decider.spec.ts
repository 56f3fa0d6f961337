import { deciderSpecification, stateFrom } from '@orderflow/domain';
import { shipmentDecider, type ShipmentCommand, type ShipmentEvent } from './shipment.decider';

const ORDER_ID = 'order-1';
const at = new Date('2025-03-01T10:00:00.000Z');
const later = new Date('2025-03-01T11:00:00.000Z');
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
const cancel: ShipmentCommand = { type: 'CancelShipment', orderId: ORDER_ID, at: later };

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
  data: { orderId: ORDER_ID, shipmentId: 'shipment-1', cancelledAt: later.toISOString() },
};
const voided: ShipmentEvent = { type: 'ShipmentVoided', data: { orderId: ORDER_ID, voidedAt: later.toISOString() } };

const { given } = deciderSpecification(shipmentDecider);
const stateAfter = (...history: ShipmentEvent[]) => stateFrom(shipmentDecider, history);

describe('shipment decider', () => {
  describe('preparing', () => {
    it('prepares a label for a new order', () => {
      given().when(prepare).then([prepared]);
    });

    it('remembers the carrier the label was prepared with', () => {
      expect(stateAfter(prepared)).toEqual({
        status: 'PREPARED',
        orderId: ORDER_ID,
        shipmentId: 'shipment-1',
        trackingNumber: 'TRK-0001',
        carrier: 'acme-post',
      });
      expect(stateAfter(prepared, scheduled)).toMatchObject({ status: 'PICKUP_SCHEDULED', carrier: 'acme-post' });
      expect(stateAfter(prepared, scheduled, cancelled)).toEqual({
        status: 'CANCELLED',
        orderId: ORDER_ID,
        shipmentId: 'shipment-1',
        carrier: 'acme-post',
      });
    });

    it('prepares only once when the order is delivered twice', () => {
      given(prepared).when(prepare).thenNothingHappened();
    });

    it('does not prepare again after the shipment was cancelled', () => {
      given(prepared, cancelled).when(prepare).thenNothingHappened();
    });
  });

  describe('scheduling the pickup', () => {
    it('schedules the pickup of a prepared shipment', () => {
      given(prepared).when(schedule).then([scheduled]);
      expect(stateAfter(prepared, scheduled)).toMatchObject({ status: 'PICKUP_SCHEDULED', pickupAt: pickupAt.toISOString() });
    });

    it('schedules only once', () => {
      given(prepared, scheduled).when(schedule).thenNothingHappened();
    });

    it('does nothing when the shipment was cancelled first', () => {
      given(prepared, cancelled).when(schedule).thenNothingHappened();
      given(voided).when(schedule).thenNothingHappened();
    });

    it('refuses to schedule a pickup when no shipment was prepared', () => {
      given().when(schedule).thenThrows('ILLEGAL_STATE', /no prepared shipment/);
    });
  });

  describe('cancelling', () => {
    it('voids a prepared label', () => {
      given(prepared).when(cancel).then([cancelled]);
    });

    it('voids a shipment whose pickup was already scheduled', () => {
      given(prepared, scheduled).when(cancel).then([cancelled]);
    });

    it('cancels only once', () => {
      given(prepared, cancelled).when(cancel).thenNothingHappened();
      given(prepared, scheduled, cancelled).when(cancel).thenNothingHappened();
    });
  });

  describe('cancelled before it was placed', () => {
    it('leaves a tombstone when the order is cancelled before shipping saw it placed', () => {
      given().when(cancel).then([voided]);
      expect(stateAfter(voided)).toEqual({ status: 'VOIDED', orderId: ORDER_ID });
    });

    it('prepares no label for an order placed after its tombstone', () => {
      given(voided).when(prepare).thenNothingHappened();
    });

    it('voids only once when the cancellation arrives twice', () => {
      given(voided).when(cancel).thenNothingHappened();
    });
  });
});
