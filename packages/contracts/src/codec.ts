import type { TSchema } from '@sinclair/typebox';
import { EventCatalog, isEventType, type EventType } from './catalog';
import type { AnyEvent } from './envelope';
import { compileUnknownFieldStripper } from './unknown-fields';
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

const catalogTypes = Object.keys(EventCatalog) as EventType[];
const validators = new Map<EventType, Validator<TSchema>>(catalogTypes.map((type) => [type, compileValidator(EventCatalog[type].schema)]));
const strippers = new Map(catalogTypes.map((type) => [type, compileUnknownFieldStripper(EventCatalog[type].schema)]));

export function encodeEvent(event: AnyEvent): WireMessage {
  const headers: Record<string, string> = { 'content-type': event.datacontenttype };
  for (const attribute of ATTRIBUTES) headers[`ce_${attribute}`] = event[attribute];
  if (event.traceparent) headers['ce_traceparent'] = event.traceparent;
  return { key: event.subject, value: JSON.stringify(event.data), headers };
}

/**
 * The producer's check: the data of an event against its schema, strictly (an unknown
 * field is refused too). Throws InvalidEventError naming the type and every offending
 * field, e.g. `StockLevelChanged data is invalid: catalogued is not an allowed field`.
 */
export function validateEventData(type: EventType, data: unknown): void {
  const result = validators.get(type)!(data);
  if (!result.ok) throw new InvalidEventError(`${type} data is invalid`, result.issues);
}

/**
 * What an event store checks before it records an event: a type the catalog knows,
 * data valid under its schema (strictly), and a subject that is the data's key
 * field, since the subject becomes the Kafka key that orders the stream.
 */
export function assertValidEvent(event: AnyEvent): void {
  const type: string = event.type;
  if (!isEventType(type)) throw new InvalidEventError(`unknown event type "${type}"`);
  validateEventData(type, event.data);
  const keyField = EventCatalog[type].keyField;
  const key = (event.data as Record<string, unknown>)[keyField];
  if (event.subject !== key) {
    throw new InvalidEventError(`${type} subject "${event.subject}" does not match data.${keyField} "${String(key)}"`);
  }
}

/**
 * Whether a consumer can acknowledge a message without decoding it: its `ce_type`
 * names a type the consumer does not handle, or one this catalog does not know yet
 * (a newer producer's). A message without a `ce_type` is not skippable: decoding it
 * fails, and it is dead-lettered rather than silently dropped.
 */
export function isUnhandledEvent(headers: Readonly<Record<string, string | undefined>>, handles: (type: EventType) => boolean): boolean {
  const type = headers['ce_type'];
  if (!type) return false;
  return !isEventType(type) || !handles(type);
}

/**
 * Turns a received Kafka message back into a typed event, checking the envelope,
 * the JSON and the data schema. A tolerant reader: data fields the schema does not
 * declare (a newer producer's) are dropped before the check, so they neither fail
 * decoding nor travel on into an event this service stores again; anything else the
 * schema refuses (a missing field, a wrong type) fails with InvalidEventError.
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
  data = strippers.get(type)!(data);
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
