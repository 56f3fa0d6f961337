import { deciderSpecification } from '@orderflow/domain';
import { paymentDecider, type PaymentCommand, type PaymentEvent } from './payment.decider';

const ORDER_ID = 'order-1';
const LIMIT = 100_000;
const at = new Date('2025-03-01T10:00:00.000Z');
const later = new Date('2025-03-01T11:00:00.000Z');

const authorize = (overrides: Partial<Extract<PaymentCommand, { type: 'AuthorizePayment' }>> = {}): PaymentCommand => ({
  type: 'AuthorizePayment',
  orderId: ORDER_ID,
  paymentId: 'payment-1',
  amount: 4_500,
  currency: 'EUR',
  token: 'tok_visa',
  limit: LIMIT,
  at,
  ...overrides,
});
const refund: PaymentCommand = { type: 'RefundPayment', orderId: ORDER_ID, at: later };

const authorized: PaymentEvent = {
  type: 'PaymentAuthorized',
  data: { orderId: ORDER_ID, paymentId: 'payment-1', amount: 4_500, currency: 'EUR', authorizedAt: at.toISOString() },
};
const declined = (reason: 'CARD_DECLINED' | 'AMOUNT_OVER_LIMIT', amount = 4_500): PaymentEvent => ({
  type: 'PaymentDeclined',
  data: { orderId: ORDER_ID, amount, currency: 'EUR', reason, declinedAt: at.toISOString() },
});
const refunded: PaymentEvent = {
  type: 'PaymentRefunded',
  data: { orderId: ORDER_ID, paymentId: 'payment-1', amount: 4_500, currency: 'EUR', refundedAt: later.toISOString() },
};

const voided: PaymentEvent = { type: 'PaymentVoided', data: { orderId: ORDER_ID, voidedAt: later.toISOString() } };

const { given } = deciderSpecification(paymentDecider);

describe('payment decider', () => {
  describe('authorizing', () => {
    it('authorizes the order total with an approving card token', () => {
      given().when(authorize()).then([authorized]);
    });

    it.each(['tok_mastercard', 'tok_amex'])('also approves %s', (token) => {
      given().when(authorize({ token })).then([authorized]);
    });

    it('declines a tok_declined card with CARD_DECLINED', () => {
      given().when(authorize({ token: 'tok_declined' })).then([declined('CARD_DECLINED')]);
    });

    it('declines a token the provider does not know', () => {
      given().when(authorize({ token: 'tok_unknown' })).then([declined('CARD_DECLINED')]);
    });

    it('declines an amount above the limit with AMOUNT_OVER_LIMIT', () => {
      given().when(authorize({ amount: LIMIT + 1 })).then([declined('AMOUNT_OVER_LIMIT', LIMIT + 1)]);
    });

    it('authorizes an amount exactly at the limit', () => {
      given()
        .when(authorize({ amount: LIMIT }))
        .then([{ type: 'PaymentAuthorized', data: { ...authorized.data, amount: LIMIT } }]);
    });

    it('reports a declined card before an amount over the limit', () => {
      given().when(authorize({ token: 'tok_declined', amount: LIMIT + 1 })).then([
        declined('CARD_DECLINED', LIMIT + 1),
      ]);
    });

    it('does nothing when asked to authorize an already authorized payment', () => {
      given(authorized).when(authorize()).thenNothingHappened();
    });

    it('does not authorize on a second attempt after a decline', () => {
      given(declined('CARD_DECLINED')).when(authorize({ token: 'tok_visa' })).thenNothingHappened();
    });

    it('does not authorize again after a refund', () => {
      given(authorized, refunded).when(authorize()).thenNothingHappened();
    });
  });

  describe('cancelled before it was placed', () => {
    it('leaves a tombstone when the order is cancelled before payment saw it placed', () => {
      given().when(refund).then([voided]);
    });

    it('charges nothing for an order placed after its tombstone', () => {
      given(voided).when(authorize()).thenNothingHappened();
    });

    it('voids only once when the cancellation arrives twice', () => {
      given(voided).when(refund).thenNothingHappened();
    });
  });

  describe('refunding', () => {
    it('refunds the authorized amount to the authorized payment', () => {
      given(authorized).when(refund).then([refunded]);
    });

    it('refunds only once', () => {
      given(authorized, refunded).when(refund).thenNothingHappened();
    });

    it('refunds nothing after a decline', () => {
      given(declined('CARD_DECLINED')).when(refund).thenNothingHappened();
      given(declined('AMOUNT_OVER_LIMIT')).when(refund).thenNothingHappened();
    });
  });
});
