import type { Span } from '@opentelemetry/api';
import type { OutboxMessage, PublishReport } from '@orderflow/eventstore';
import type { BrokerKind } from '@orderflow/messaging';
import { SpanKind, contextOf, endSpan, messagingSystem, startSpan, traceparentOf } from './tracing';

type Publish = (messages: OutboxMessage[]) => Promise<PublishReport>;

/**
 * The outbox relay's publish with a producer span per message: a child of the
 * span stored with the event (the request or consumed event that caused it), and
 * the parent the consumers continue from, so the time an event waited in the
 * outbox shows in the trace. The stored row keeps its own traceparent: a retry
 * after a failed send is a sibling, not a child, of the failed attempt.
 */
export function tracedPublish(publish: Publish, broker: BrokerKind): Publish {
  const system = messagingSystem(broker);
  return async (messages) => {
    const sent = new Map<OutboxMessage, { original: OutboxMessage; span: Span }>();
    for (const original of messages) {
      const span = startSpan(`send ${original.headers['ce_type'] ?? original.topic}`, SpanKind.PRODUCER, contextOf(original.headers['ce_traceparent']), {
        'messaging.system': system,
        'messaging.operation.type': 'send',
        'messaging.destination.name': original.topic,
        'messaging.message.id': original.eventId,
        'orderflow.event.type': original.headers['ce_type'] ?? '',
        'orderflow.order_id': original.key,
      })!;
      sent.set({ ...original, headers: { ...original.headers, ce_traceparent: traceparentOf(span) } }, { original, span });
    }
    let report: PublishReport;
    try {
      report = await publish([...sent.keys()]);
    } catch (error) {
      for (const { span } of sent.values()) endSpan(span, error);
      throw error;
    }
    const errors = new Map<OutboxMessage, unknown>();
    for (const group of report.failed) for (const m of group.messages) errors.set(m, group.error);
    for (const [copy, { span }] of sent) endSpan(span, errors.get(copy));
    const back = (m: OutboxMessage) => sent.get(m)?.original ?? m;
    return { acked: report.acked.map(back), failed: report.failed.map((g) => ({ messages: g.messages.map(back), error: g.error })) };
  };
}
