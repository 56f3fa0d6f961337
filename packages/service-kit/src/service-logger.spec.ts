import type { AnyEvent } from '@orderflow/contracts';
import { ServiceLogger, eventLogFields } from './service-logger';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function capture(format: 'json' | 'pretty', levels: ('log' | 'warn' | 'error' | 'debug')[] = ['log', 'warn', 'error']) {
  const lines: string[] = [];
  return { logger: new ServiceLogger('payment', format, levels, (line) => lines.push(line)), lines };
}

describe('ServiceLogger', () => {
  it('writes one JSON object a line with level, service, context and message', () => {
    const { logger, lines } = capture('json');
    logger.log('listening on :3001', 'payment');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({ time: expect.any(String), level: 'info', service: 'payment', context: 'payment', message: 'listening on :3001' });
  });

  it('names the order, correlation and trace of the event being handled', () => {
    const { logger, lines } = capture('json');
    const fields = { orderId: 'order-1', correlationId: 'corr-1', eventId: 'event-1', eventType: 'OrderPlaced' };
    logger.warn('slow provider', fields, 'PaymentHandler');
    logger.error('parking message', { orderId: 'order-2', traceparent: TRACEPARENT }, 'EventTransport');
    expect(JSON.parse(lines[0]!)).toMatchObject({ order_id: 'order-1', correlation_id: 'corr-1', event_id: 'event-1', event_type: 'OrderPlaced', context: 'PaymentHandler' });
    expect(JSON.parse(lines[1]!)).toMatchObject({
      level: 'error',
      order_id: 'order-2',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      context: 'EventTransport',
    });
  });

  it('names the event a handler is handling with the fields its context gives (EventContext.logFields)', () => {
    const { logger, lines } = capture('json');
    const event = { id: 'event-3', type: 'OrderPlaced', subject: 'order-3', correlationid: 'corr-3', traceparent: TRACEPARENT } as unknown as AnyEvent;
    logger.warn('declined', eventLogFields(event), 'PaymentHandler');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      order_id: 'order-3',
      correlation_id: 'corr-3',
      event_id: 'event-3',
      event_type: 'OrderPlaced',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      context: 'PaymentHandler',
    });
  });

  it('writes only the message and the named fields, never other objects it is handed', () => {
    const { logger, lines } = capture('json');
    logger.warn('refused', { card: '4242424242424242', password: 'hunter2' }, 'Http');
    expect(lines[0]).not.toContain('4242');
    expect(lines[0]).not.toContain('hunter2');
  });

  it('leaves out levels below the configured one', () => {
    const { logger, lines } = capture('json', ['warn', 'error']);
    logger.log('chatter');
    logger.debug('more chatter');
    logger.warn('kept');
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['kept']);
  });

  it('writes a readable line in a terminal', () => {
    const { logger, lines } = capture('pretty');
    logger.warn('declined', { orderId: 'order-1' }, 'PaymentHandler');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}payment\s+\[PaymentHandler\] declined\s{2}order_id=order-1\n$/);
  });
});
