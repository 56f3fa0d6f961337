import { validateEventData } from '@orderflow/contracts';
import fc from 'fast-check';
import { APPROVING_TOKENS, paymentDecider, type PaymentCommand, type PaymentState } from './payment.decider';
import { paymentIdFor } from './payment-id';

/*
 * Whatever the history of a payment, every event the decider emits must pass its
 * contract schema exactly (additionalProperties: false). Histories come from running
 * generated commands (authorize and refund, repeated, out of order, refunds before
 * authorizations) through decide/evolve from the initial state.
 */

const id = fc.string({ minLength: 1, maxLength: 128 });
const at = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
const money = fc.oneof(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: 100_000 }), fc.maxSafeNat());

const commandFor = (orders: string[]): fc.Arbitrary<PaymentCommand> => {
  const orderId = fc.constantFrom(...orders);
  return fc.oneof(
    fc.record({
      type: fc.constant('AuthorizePayment' as const),
      orderId,
      // as the handler makes it (from the causing event's id), or any id the contract allows
      paymentId: fc.oneof(id.map(paymentIdFor), id),
      amount: money,
      currency: fc.stringMatching(/^[A-Z]{3}$/),
      token: fc.oneof(fc.constantFrom(...APPROVING_TOKENS, 'tok_declined'), fc.string({ minLength: 1, maxLength: 100 })),
      limit: money,
      at,
    }),
    fc.record({ type: fc.constant('RefundPayment' as const), orderId, at }),
  );
};

const scenario = fc
  .uniqueArray(id, { minLength: 1, maxLength: 3 })
  .chain((orders) => fc.array(commandFor(orders), { minLength: 1, maxLength: 20 }));

function run(commands: readonly PaymentCommand[]): void {
  const payments = new Map<string, PaymentState>();
  for (const command of commands) {
    const state = payments.get(command.orderId) ?? paymentDecider.initialState();
    const events = paymentDecider.decide(command, state);
    for (const event of events) validateEventData(event.type, event.data);
    payments.set(command.orderId, events.reduce(paymentDecider.evolve, state));
  }
}

describe('payment events against the contract', () => {
  it('every event decided for any history of authorizations and refunds passes its schema', () => {
    fc.assert(fc.property(scenario, run), { numRuns: 500 });
  });

  it('derives the same payment id from the same causing event, and different ones from different events', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(paymentIdFor(a)).toBe(paymentIdFor(a));
        expect(paymentIdFor(a)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        if (a !== b) expect(paymentIdFor(a)).not.toBe(paymentIdFor(b));
      }),
    );
  });
});
