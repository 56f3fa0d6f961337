import type { TSchema } from '@sinclair/typebox';
import { EventCatalog, isEventType, type EventType } from './catalog';
import type { AnyEvent } from './envelope';
import { compileValidator, type ValidationIssue, type Validator } from './validation';

/** A Kafka message in CloudEvents binary mode: attributes in `ce_*` headers, data as the JSON value. */
export interface WireMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

export interface IncomingMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string | undefined>;
}

const ATTRIBUTES = ['id', 'source', 'type', 'specversion', 'time', 'subject', 'dataschema', 'correlationid', 'causationid'] as const;

export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  constructor(
    message: string,
    readonly issues: ValidationIssue[] = [],
  ) {
    super(issues.length ? `${message}: ${issues.map((i) => `${i.field || '(root)'} ${i.message}`).join('; ')}` : message);
  }
}

const validators = new Map<EventType, Validator<TSchema>>(
  (Object.keys(EventCatalog) as EventType[]).map((type) => [type, compileValidator(EventCatalog[type].schema)]),
);

export function encodeEvent(event: AnyEvent): WireMessage {
  const headers: Record<string, string> = { 'content-type': event.datacontenttype };
  for (const attribute of ATTRIBUTES) headers[`ce_${attribute}`] = event[attribute];
  if (event.traceparent) headers['ce_traceparent'] = event.traceparent;
  return { key: event.subject, value: JSON.stringify(event.data), headers };
}

/** Validates the data of an event against its schema; throws InvalidEventError naming the fields. */
export function validateEventData(type: EventType, data: unknown): void {
  const result = validators.get(type)!(data);
  if (!result.ok) throw new InvalidEventError(`${type} data is invalid`, result.issues);
}

/**
 * Turns a received Kafka message back into a typed event, checking the envelope,
 * the JSON and the data schema. Every consumer runs this on every message.
 */
export function decodeEvent(message: IncomingMessage): AnyEvent {
  const h = message.headers;
  const missing = ATTRIBUTES.filter((a) => !h[`ce_${a}`]);
  if (missing.length) {
    throw new InvalidEventError('envelope is incomplete', missing.map((a) => ({ field: `ce_${a}`, message: 'is required' })));
  }
  const type = h['ce_type']!;
  if (!isEventType(type)) throw new InvalidEventError(`unknown event type "${type}"`);
  if (h['ce_specversion'] !== '1.0') throw new InvalidEventError(`unsupported specversion "${h['ce_specversion']}"`);
  if (message.key === null) throw new InvalidEventError('message has no key');
  if (message.key !== h['ce_subject']) {
    throw new InvalidEventError(`message key "${message.key}" does not match subject "${h['ce_subject']}"`);
  }
  if (message.value === null) throw new InvalidEventError('message has no value');
  let data: unknown;
  try {
    data = JSON.parse(message.value);
  } catch (error) {
    throw new InvalidEventError(`value is not JSON (${(error as Error).message})`);
  }
  validateEventData(type, data);
  const key = (data as Record<string, unknown>)[EventCatalog[type].keyField];
  if (key !== h['ce_subject']) {
    throw new InvalidEventError(`subject "${h['ce_subject']}" does not match data.${EventCatalog[type].keyField} "${String(key)}"`);
  }
  if (Number.isNaN(Date.parse(h['ce_time']!))) throw new InvalidEventError(`ce_time "${h['ce_time']}" is not a timestamp`);
  const event = {
    ...Object.fromEntries(ATTRIBUTES.map((a) => [a, h[`ce_${a}`]])),
    datacontenttype: 'application/json',
    data,
  } as unknown as AnyEvent;
  if (h['ce_traceparent']) event.traceparent = h['ce_traceparent'];
  return event;
}
