import type { EventData } from './catalog';
import {
  assertValidEvent,
  decodeEvent,
  encodeEvent,
  InvalidEventError,
  isUnhandledEvent,
  validateEventData,
  type IncomingMessage,
} from './codec';
import { createEvent, type AnyEvent } from './envelope';

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

  describe('decoding is tolerant of fields it does not know', () => {
    it('accepts data with an unknown field and drops it', () => {
      const decoded = decodeEvent(withData({ ...placed, coupon: 'FREE' }));
      expect(decoded).toEqual(orderPlaced);
      expect(decoded.data).not.toHaveProperty('coupon');
    });

    it('drops unknown fields in nested objects and in array items', () => {
      const decoded = decodeEvent(
        withData({
          ...placed,
          payment: { token: 'tok_visa', cvc: '123' },
          items: placed.items.map((line) => ({ ...line, colour: 'red' })),
          shippingAddress: { ...placed.shippingAddress, line2: 'Flat 3' },
        }),
      );
      expect(decoded.data).toEqual(placed);
    });

    it('reads the StockLevelChanged that inventory published with its state spread into it', () => {
      const data = {
        sku: 'MUG-01',
        stocked: 10,
        available: 8,
        reserved: 2,
        committed: 0,
        cause: 'RESERVED',
        orderId: ORDER_ID,
        changedAt: time.toISOString(),
        name: 'Mug',
        unitPrice: 1_250,
        currency: 'EUR',
        catalogued: true,
      };
      const wire = encodeEvent(
        createEvent('StockLevelChanged', { ...data, cause: 'RESERVED' }, { source: 'orderflow/inventory', time, id: 'event-9' }),
      );
      const { catalogued: _, ...declared } = data;
      const decoded = decodeEvent(wire);
      expect(decoded.data).toEqual(declared);
    });

    it('returns data a service can record again under the strict producer check', () => {
      const decoded = decodeEvent(withData({ ...placed, coupon: 'FREE', payment: { token: 'tok_visa', cvc: '123' } }));
      expect(() => assertValidEvent(decoded)).not.toThrow();
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

    it('data missing a field even when it also carries one it does not know, naming only the missing one', () => {
      const { customerId: _, ...withoutCustomer } = placed;
      const error = rejectionOf(withData({ ...withoutCustomer, coupon: 'FREE' }));
      expect(error.issues).toEqual([{ field: 'customerId', message: 'is required' }]);
    });

    it('data of another event type', () => {
      const error = rejectionOf(withData({ orderId: ORDER_ID, confirmedAt: time.toISOString() }));
      expect(error.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['customerId', 'items']));
      expect(error.issues.map((i) => i.field)).not.toContain('confirmedAt');
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

    it('refuses a field the schema does not declare, naming the event type and the field', () => {
      const data = { sku: 'MUG-01', stocked: 5, available: 5, reserved: 0, committed: 0, cause: 'RESTOCKED', changedAt: time.toISOString() };
      expect(() => validateEventData('StockLevelChanged', { ...data, catalogued: true })).toThrow(
        new InvalidEventError('StockLevelChanged data is invalid', [{ field: 'catalogued', message: 'is not an allowed field' }]),
      );
      expect(() => validateEventData('StockLevelChanged', { ...data, catalogued: true })).toThrow(
        'StockLevelChanged data is invalid: catalogued is not an allowed field',
      );
    });

    it('refuses an unknown field in a nested object, naming its path', () => {
      expect(() => validateEventData('OrderPlaced', { ...placed, payment: { token: 'tok_visa', cvc: '123' } })).toThrow(
        'OrderPlaced data is invalid: payment.cvc is not an allowed field',
      );
    });
  });

  describe('assertValidEvent', () => {
    it('accepts an event built by createEvent', () => {
      expect(() => assertValidEvent(orderPlaced)).not.toThrow();
    });

    it('refuses data the schema forbids, naming the event type and the field', () => {
      const event = { ...orderPlaced, data: { ...placed, total: -1 } };
      expect(() => assertValidEvent(event)).toThrow(/^OrderPlaced data is invalid: total /);
    });

    it('refuses an unknown field in the data', () => {
      const event = { ...orderPlaced, data: { ...placed, coupon: 'FREE' } };
      expect(() => assertValidEvent(event)).toThrow('OrderPlaced data is invalid: coupon is not an allowed field');
    });

    it('refuses a subject that is not the key field of the data', () => {
      const event: AnyEvent = { ...orderPlaced, subject: 'order-2' };
      expect(() => assertValidEvent(event)).toThrow(new InvalidEventError('OrderPlaced subject "order-2" does not match data.orderId "order-1"'));
    });

    it('refuses a product event whose subject is not its sku', () => {
      const event = createEvent(
        'ProductCatalogued',
        { sku: 'MUG-01', name: 'Mug', unitPrice: 1_250, currency: 'EUR', cataloguedAt: time.toISOString() },
        { source: 'orderflow/inventory', time },
      );
      expect(() => assertValidEvent({ ...event, subject: 'order-1' })).toThrow(/subject "order-1" does not match data.sku "MUG-01"/);
    });

    it('refuses a type the catalog does not know', () => {
      const event = { ...orderPlaced, type: 'OrderShipped' } as unknown as AnyEvent;
      expect(() => assertValidEvent(event)).toThrow(new InvalidEventError('unknown event type "OrderShipped"'));
    });

    it('refuses a type that is only a property every object inherits', () => {
      const event = { ...orderPlaced, type: 'constructor' } as unknown as AnyEvent;
      expect(() => assertValidEvent(event)).toThrow('unknown event type "constructor"');
    });
  });

  describe('isUnhandledEvent', () => {
    const handlesOrderPlaced = (type: string) => type === 'OrderPlaced';
    const headers = (type?: string) => ({ ...received().headers, ce_type: type });

    it('skips an event type the consumer does not handle', () => {
      expect(isUnhandledEvent(headers('OrderConfirmed'), handlesOrderPlaced)).toBe(true);
    });

    it('does not skip an event type the consumer handles', () => {
      expect(isUnhandledEvent(headers('OrderPlaced'), handlesOrderPlaced)).toBe(false);
    });

    it('skips an event type the catalog does not know yet, as a newer producer may send', () => {
      expect(isUnhandledEvent(headers('OrderGiftWrapped'), () => true)).toBe(true);
      expect(isUnhandledEvent(headers('toString'), () => true)).toBe(true);
    });

    it('does not skip a message without a type, so decoding dead-letters it', () => {
      expect(isUnhandledEvent(headers(undefined), handlesOrderPlaced)).toBe(false);
      expect(isUnhandledEvent(headers(''), handlesOrderPlaced)).toBe(false);
    });
  });
});
