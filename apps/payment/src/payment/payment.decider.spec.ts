import { decide, evolve, initialState, type PaymentCommand, type PaymentEvent } from './payment.decider';

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

const given = (...history: PaymentEvent[]) => ({
  when: (command: PaymentCommand): PaymentEvent[] => decide(command, history.reduce(evolve, initialState())),
});

describe('payment decider', () => {
  describe('authorizing', () => {
    it('authorizes the order total with an approving card token', () => {
      expect(given().when(authorize())).toEqual([authorized]);
    });

    it.each(['tok_mastercard', 'tok_amex'])('also approves %s', (token) => {
      expect(given().when(authorize({ token }))).toEqual([authorized]);
    });

    it('declines a tok_declined card with CARD_DECLINED', () => {
      expect(given().when(authorize({ token: 'tok_declined' }))).toEqual([declined('CARD_DECLINED')]);
    });

    it('declines a token the provider does not know', () => {
      expect(given().when(authorize({ token: 'tok_unknown' }))).toEqual([declined('CARD_DECLINED')]);
    });

    it('declines an amount above the limit with AMOUNT_OVER_LIMIT', () => {
      expect(given().when(authorize({ amount: LIMIT + 1 }))).toEqual([declined('AMOUNT_OVER_LIMIT', LIMIT + 1)]);
    });

    it('authorizes an amount exactly at the limit', () => {
      expect(given().when(authorize({ amount: LIMIT }))).toMatchObject([{ type: 'PaymentAuthorized', data: { amount: LIMIT } }]);
    });

    it('reports a declined card before an amount over the limit', () => {
      expect(given().when(authorize({ token: 'tok_declined', amount: LIMIT + 1 }))).toEqual([
        declined('CARD_DECLINED', LIMIT + 1),
      ]);
    });

    it('does nothing when asked to authorize an already authorized payment', () => {
      expect(given(authorized).when(authorize())).toEqual([]);
    });

    it('does not authorize on a second attempt after a decline', () => {
      expect(given(declined('CARD_DECLINED')).when(authorize({ token: 'tok_visa' }))).toEqual([]);
    });

    it('does not authorize again after a refund', () => {
      expect(given(authorized, refunded).when(authorize())).toEqual([]);
    });
  });

  describe('refunding', () => {
    it('refunds the authorized amount to the authorized payment', () => {
      expect(given(authorized).when(refund)).toEqual([refunded]);
    });

    it('refunds only once', () => {
      expect(given(authorized, refunded).when(refund)).toEqual([]);
    });

    it('refunds nothing when nothing was authorized', () => {
      expect(given().when(refund)).toEqual([]);
    });

    it('refunds nothing after a decline', () => {
      expect(given(declined('CARD_DECLINED')).when(refund)).toEqual([]);
      expect(given(declined('AMOUNT_OVER_LIMIT')).when(refund)).toEqual([]);
    });
  });
});
