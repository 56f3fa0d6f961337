import { randomUUID } from 'node:crypto';
import { dataSchemaUri, EventCatalog, type EventData, type EventType } from './catalog';

/** CloudEvents 1.0 attributes plus the correlation/causation/trace extensions we carry. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  source: string;
  type: T;
  specversion: '1.0';
  time: string;
  /** The order id (or sku for product events): also the Kafka key. */
  subject: string;
  dataschema: string;
  datacontenttype: 'application/json';
  correlationid: string;
  causationid: string;
  traceparent?: string;
  data: EventData<T>;
}

/** A discriminated union over every event type: `switch (event.type)` narrows `data`. */
export type AnyEvent = { [K in EventType]: EventEnvelope<K> }[EventType];

export interface EnvelopeOptions {
  /** The service that emits the event, e.g. `orderflow/payment`. */
  source: string;
  time: Date;
  id?: string;
  /** The event this one reacts to: it inherits its correlation id and trace. */
  causedBy?: Pick<EventEnvelope, 'id' | 'correlationid' | 'traceparent'>;
  correlationId?: string;
  /** The span that made this event when no event caused it (e.g. an HTTP request's); `causedBy`'s wins. */
  traceparent?: string;
}

export function subjectOf<T extends EventType>(type: T, data: EventData<T>): string {
  const field = EventCatalog[type].keyField;
  return (data as Record<string, unknown>)[field] as string;
}

export function createEvent<T extends EventType>(type: T, data: EventData<T>, options: EnvelopeOptions): EventEnvelope<T> {
  const id = options.id ?? randomUUID();
  const correlationid = options.causedBy?.correlationid ?? options.correlationId ?? id;
  const envelope: EventEnvelope<T> = {
    id,
    source: options.source,
    type,
    specversion: '1.0',
    time: options.time.toISOString(),
    subject: subjectOf(type, data),
    dataschema: dataSchemaUri(type),
    datacontenttype: 'application/json',
    correlationid,
    causationid: options.causedBy?.id ?? id,
    data,
  };
  const traceparent = options.causedBy ? options.causedBy.traceparent : options.traceparent;
  if (traceparent) envelope.traceparent = traceparent;
  return envelope;
}

/** An event as a decider sees it: type and data, before it is wrapped in an envelope. */
export type DomainEvent<T extends EventType = EventType> = { [K in T]: { type: K; data: EventData<K> } }[T];

/** Wraps a decider's event in its envelope. */
export function toEnvelope(event: DomainEvent, options: EnvelopeOptions): AnyEvent {
  return createEvent(event.type, event.data as never, options) as AnyEvent;
}
