import type { EventData } from './catalog';
import { decodeEvent, encodeEvent, InvalidEventError, validateEventData, type IncomingMessage } from './codec';
import { createEvent } from './envelope';

const ORDER_ID = 'order-1';
const time = new Date('2025-03-01T10:00:00.000Z');
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const placed: EventData<'OrderPlaced'> = {
  orderId: ORDER_ID,
  customerId: 'customer-1',
  items: [
    { sku: 'MUG-01', quantity: 2, unitPrice: 1_250 },
    { sku: 'TEE-02', quantity: 1, unitPrice: 2_000 },
  ],
  total: 4_500,
  currency: 'EUR',
  payment: { token: 'tok_visa' },
  shippingAddress: { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  placedAt: time.toISOString(),
};

const orderPlaced = createEvent('OrderPlaced', placed, { source: 'orderflow/orders', time, id: 'event-1', correlationId: 'correlation-1' });

/** The encoded OrderPlaced as a consumer receives it, with some parts replaced. */
function received(overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  const wire = encodeEvent(orderPlaced);
  return { key: wire.key, value: wire.value, headers: { ...wire.headers }, ...overrides };
}
const withHeaders = (headers: Record<string, string | undefined>): IncomingMessage =>
  received({ headers: { ...received().headers, ...headers } });
const withData = (data: unknown): IncomingMessage => received({ value: JSON.stringify(data) });

function rejectionOf(message: IncomingMessage): InvalidEventError {
  try {
    decodeEvent(message);
  } catch (error) {
    if (error instanceof InvalidEventError) return error;
    throw error;
  }
  throw new Error('expected the message to be rejected');
}

describe('event codec', () => {
  describe('encoding', () => {
    it('carries the CloudEvents attributes as ce_* headers and the data as the JSON value', () => {
      expect(encodeEvent(orderPlaced)).toEqual({
        key: ORDER_ID,
        value: JSON.stringify(placed),
        headers: {
          'content-type': 'application/json',
          ce_id: 'event-1',
          ce_source: 'orderflow/orders',
          ce_type: 'OrderPlaced',
          ce_specversion: '1.0',
          ce_time: time.toISOString(),
          ce_subject: ORDER_ID,
          ce_dataschema: 'urn:orderflow:schema:OrderPlaced:v1',
          ce_correlationid: 'correlation-1',
          ce_causationid: 'event-1',
        },
      });
    });

    it('keys the message by the order id, which is also the subject', () => {
      const wire = encodeEvent(orderPlaced);
      expect(wire.key).toBe(ORDER_ID);
      expect(wire.headers['ce_subject']).toBe(ORDER_ID);
    });

    it('adds a traceparent header only when the event has one', () => {
      const traced = createEvent('OrderPlaced', placed, {
        source: 'orderflow/orders',
        time,
        causedBy: { id: 'event-0', correlationid: 'correlation-0', traceparent: TRACEPARENT },
      });
      expect(encodeEvent(traced).headers['ce_traceparent']).toBe(TRACEPARENT);
      expect(encodeEvent(orderPlaced).headers).not.toHaveProperty('ce_traceparent');
    });
  });

  describe('round trip', () => {
    it('decodes exactly the event it encoded', () => {
      expect(decodeEvent(received())).toEqual(orderPlaced);
    });

    it('keeps the traceparent across the wire', () => {
      const traced = createEvent('OrderPlaced', placed, {
        source: 'orderflow/orders',
        time,
        causedBy: { id: 'event-0', correlationid: 'correlation-0', traceparent: TRACEPARENT },
      });
      const wire = encodeEvent(traced);
      expect(decodeEvent({ key: wire.key, value: wire.value, headers: wire.headers })).toEqual(traced);
    });

    it('round-trips a product event keyed by sku', () => {
      const catalogued = createEvent(
        'ProductCatalogued',
        { sku: 'MUG-01', name: 'Mug', unitPrice: 1_250, currency: 'EUR', cataloguedAt: time.toISOString() },
        { source: 'orderflow/inventory', time },
      );
      const wire = encodeEvent(catalogued);
      expect(wire.key).toBe('MUG-01');
      expect(decodeEvent(wire)).toEqual(catalogued);
    });
  });

  describe('decoding rejects', () => {
    it('a message without a key', () => {
      expect(rejectionOf(received({ key: null })).message).toMatch(/no key/);
    });

    it('a subject that is not the id in the data, which would break per-order ordering', () => {
      const other = 'order-2';
      const message = received({ key: other, headers: { ...received().headers, ce_subject: other } });
      expect(rejectionOf(message).message).toMatch(/does not match data.orderId/);
    });

    it('a ce_time that is not a timestamp', () => {
      expect(rejectionOf(withHeaders({ ce_time: 'yesterday' })).message).toMatch(/ce_time/);
    });

    it('an envelope without ce_id, naming the header', () => {
      const error = rejectionOf(withHeaders({ ce_id: undefined }));
      expect(error.issues).toEqual([{ field: 'ce_id', message: 'is required' }]);
    });

    it('an envelope missing several attributes, naming each of them', () => {
      const error = rejectionOf(withHeaders({ ce_source: undefined, ce_time: '' }));
      expect(error.issues.map((i) => i.field)).toEqual(['ce_source', 'ce_time']);
    });

    it('an unknown event type', () => {
      expect(rejectionOf(withHeaders({ ce_type: 'OrderShipped' })).message).toBe('unknown event type "OrderShipped"');
    });

    it('a type that is only a property every object inherits', () => {
      expect(rejectionOf(withHeaders({ ce_type: 'toString' })).message).toBe('unknown event type "toString"');
    });

    it('a specversion other than 1.0', () => {
      expect(rejectionOf(withHeaders({ ce_specversion: '0.3' })).message).toBe('unsupported specversion "0.3"');
    });

    it('a value that is not JSON', () => {
      expect(rejectionOf(received({ value: '{"orderId":' })).message).toMatch(/^value is not JSON/);
    });

    it('a message without a value', () => {
      expect(rejectionOf(received({ value: null })).message).toBe('message has no value');
    });

    it('a key that is not the subject', () => {
      expect(rejectionOf(received({ key: 'order-2' })).message).toBe('message key "order-2" does not match subject "order-1"');
    });

    it('data failing the schema, naming the field by its path', () => {
      const error = rejectionOf(
        withData({ ...placed, items: [{ sku: 'MUG-01', quantity: 0, unitPrice: 1_250 }, ...placed.items.slice(1)] }),
      );
      expect(error.issues).toEqual([{ field: 'items[0].quantity', message: expect.stringContaining('1') }]);
      expect(error.message).toMatch(/^OrderPlaced data is invalid: items\[0\]\.quantity /);
    });

    it('data with every offending field named', () => {
      const { placedAt: _, ...withoutPlacedAt } = placed;
      const error = rejectionOf(
        withData({ ...withoutPlacedAt, total: -1, shippingAddress: { ...placed.shippingAddress, country: 'gb' } }),
      );
      expect(error.issues.map((i) => i.field).sort()).toEqual(['placedAt', 'shippingAddress.country', 'total']);
      expect(error.issues).toContainEqual({ field: 'placedAt', message: 'is required' });
    });

    it('data with an additional property', () => {
      const error = rejectionOf(withData({ ...placed, coupon: 'FREE' }));
      expect(error.issues).toEqual([{ field: 'coupon', message: 'is not an allowed field' }]);
    });

    it('data with an additional property in a nested object', () => {
      const error = rejectionOf(withData({ ...placed, payment: { token: 'tok_visa', cvc: '123' } }));
      expect(error.issues).toEqual([{ field: 'payment.cvc', message: 'is not an allowed field' }]);
    });

    it('data of another event type', () => {
      const error = rejectionOf(withData({ orderId: ORDER_ID, confirmedAt: time.toISOString() }));
      expect(error.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['confirmedAt', 'customerId', 'items']));
    });
  });

  describe('validateEventData', () => {
    it('accepts valid data', () => {
      expect(() => validateEventData('OrderPlaced', placed)).not.toThrow();
    });

    it('rejects a timestamp that is not an ISO date-time', () => {
      expect(() => validateEventData('OrderConfirmed', { orderId: ORDER_ID, confirmedAt: '1 March 2025' })).toThrow(
        InvalidEventError,
      );
    });
  });
});
