import { createEvent, toEnvelope } from './envelope';

const time = new Date('2025-03-01T10:00:00.000Z');
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const confirmed = { orderId: 'order-1', confirmedAt: time.toISOString() };

describe('createEvent', () => {
  it('builds a CloudEvents 1.0 envelope whose subject is the order id', () => {
    expect(createEvent('OrderConfirmed', confirmed, { source: 'orderflow/orders', time, id: 'event-1' })).toEqual({
      id: 'event-1',
      source: 'orderflow/orders',
      type: 'OrderConfirmed',
      specversion: '1.0',
      time: '2025-03-01T10:00:00.000Z',
      subject: 'order-1',
      dataschema: 'urn:orderflow:schema:OrderConfirmed:v1',
      datacontenttype: 'application/json',
      correlationid: 'event-1',
      causationid: 'event-1',
      data: confirmed,
    });
  });

  it('makes the sku the subject of a product event', () => {
    const event = createEvent(
      'StockLevelChanged',
      { sku: 'MUG-01', stocked: 5, available: 5, reserved: 0, committed: 0, cause: 'RESTOCKED', changedAt: time.toISOString() },
      { source: 'orderflow/inventory', time },
    );
    expect(event.subject).toBe('MUG-01');
  });

  it('gives each event a fresh id when none is given', () => {
    const first = createEvent('OrderConfirmed', confirmed, { source: 'orderflow/orders', time });
    const second = createEvent('OrderConfirmed', confirmed, { source: 'orderflow/orders', time });
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.id).not.toBe(first.id);
  });

  it('starts a correlation at the first event of a conversation', () => {
    const event = createEvent('OrderConfirmed', confirmed, { source: 'orderflow/orders', time, id: 'event-1' });
    expect(event).toMatchObject({ correlationid: 'event-1', causationid: 'event-1' });
    expect(event).not.toHaveProperty('traceparent');
  });

  it('uses a correlation id it is given', () => {
    const event = createEvent('OrderConfirmed', confirmed, { source: 'orderflow/orders', time, id: 'event-1', correlationId: 'request-7' });
    expect(event).toMatchObject({ correlationid: 'request-7', causationid: 'event-1' });
  });

  it('inherits the correlation id and the trace of the event that caused it and names it as the cause', () => {
    const event = createEvent('OrderConfirmed', confirmed, {
      source: 'orderflow/orders',
      time,
      id: 'event-2',
      correlationId: 'ignored-when-there-is-a-cause',
      causedBy: { id: 'event-1', correlationid: 'correlation-1', traceparent: TRACEPARENT },
    });
    expect(event).toMatchObject({ id: 'event-2', correlationid: 'correlation-1', causationid: 'event-1', traceparent: TRACEPARENT });
  });

  it('stores the trace of the request that made the first event of a conversation', () => {
    const event = createEvent('OrderConfirmed', confirmed, { source: 'orderflow/orders', time, traceparent: TRACEPARENT });
    expect(event.traceparent).toBe(TRACEPARENT);
  });

  it('takes the trace of the causing event over a request’s', () => {
    const event = createEvent('OrderConfirmed', confirmed, {
      source: 'orderflow/orders',
      time,
      traceparent: TRACEPARENT,
      causedBy: { id: 'event-1', correlationid: 'correlation-1' },
    });
    expect(event).not.toHaveProperty('traceparent');
  });

  it('leaves the trace out when the cause had none', () => {
    const event = createEvent('OrderConfirmed', confirmed, {
      source: 'orderflow/orders',
      time,
      causedBy: { id: 'event-1', correlationid: 'correlation-1' },
    });
    expect(event).toMatchObject({ correlationid: 'correlation-1', causationid: 'event-1' });
    expect(event).not.toHaveProperty('traceparent');
  });
});

describe('toEnvelope', () => {
  it('wraps a decider event in the same envelope createEvent builds', () => {
    const options = { source: 'orderflow/orders', time, id: 'event-2', causedBy: { id: 'event-1', correlationid: 'correlation-1' } };
    expect(toEnvelope({ type: 'OrderConfirmed', data: confirmed }, options)).toEqual(createEvent('OrderConfirmed', confirmed, options));
  });
});
