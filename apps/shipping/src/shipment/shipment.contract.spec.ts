import { validateEventData } from '@orderflow/contracts';
import { DomainError } from '@orderflow/domain';
import fc from 'fast-check';
import { shipmentDecider, type ShipmentCommand, type ShipmentState } from './shipment.decider';
import { shipmentIdFor } from './shipment-id';

/*
 * Whatever the history of a shipment, every event the decider emits must pass its
 * contract schema exactly (additionalProperties: false). Histories come from running
 * generated commands (prepare, schedule, cancel: repeated, out of order, cancels
 * before prepares) through decide/evolve from the initial state.
 */

const id = fc.string({ minLength: 1, maxLength: 128 });
const at = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });

const commandFor = (orders: string[]): fc.Arbitrary<ShipmentCommand> => {
  const orderId = fc.constantFrom(...orders);
  return fc.oneof(
    fc.record({
      type: fc.constant('PrepareShipment' as const),
      orderId,
      // as the handler makes it (from the causing event's id), or any id the contract allows
      shipmentId: fc.oneof(id.map(shipmentIdFor), id),
      trackingNumber: fc.string({ minLength: 1, maxLength: 40 }),
      carrier: fc.string({ minLength: 1, maxLength: 100 }),
      at,
    }),
    fc.record({ type: fc.constant('SchedulePickup' as const), orderId, pickupAt: at, at }),
    fc.record({ type: fc.constant('CancelShipment' as const), orderId, at }),
  );
};

const scenario = fc
  .uniqueArray(id, { minLength: 1, maxLength: 3 })
  .chain((orders) => fc.array(commandFor(orders), { minLength: 1, maxLength: 20 }));

/** A coded refusal (a pickup with no label) is a legal outcome; an invalid event is not. */
function run(commands: readonly ShipmentCommand[]): void {
  const shipments = new Map<string, ShipmentState>();
  for (const command of commands) {
    const state = shipments.get(command.orderId) ?? shipmentDecider.initialState();
    try {
      const events = shipmentDecider.decide(command, state);
      for (const event of events) validateEventData(event.type, event.data);
      shipments.set(command.orderId, events.reduce(shipmentDecider.evolve, state));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
}

describe('shipping events against the contract', () => {
  it('every event decided for any history of prepare, schedule and cancel passes its schema', () => {
    fc.assert(fc.property(scenario, run), { numRuns: 500 });
  });

  it('derives the same shipment id from the same causing event, and different ones from different events', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(shipmentIdFor(a)).toBe(shipmentIdFor(a));
        expect(shipmentIdFor(a)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        if (a !== b) expect(shipmentIdFor(a)).not.toBe(shipmentIdFor(b));
      }),
    );
  });
});
