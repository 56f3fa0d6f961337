import { createHash } from 'node:crypto';
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { BrokerRefusedError } from '../errors';
import { DeadLetterHeaders, EVENT_TYPE_HEADER } from '../headers';
import type { OutgoingMessage } from '../publisher';

/** SQS's limit for one message (body and attributes) and for one SendMessageBatch request. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Entries per batch request (send, delete, change visibility). */
export const MAX_BATCH_ENTRIES = 10;

/** SQS needs a message group; an empty key (none of ours, but the type allows it) gets this one. */
const EMPTY_KEY_GROUP = '_';
/** Message attributes (SQS allows ten): the type for skipping without decoding, every header as one JSON string, and a dead letter's key. */
const TYPE_ATTRIBUTE = EVENT_TYPE_HEADER;
const HEADERS_ATTRIBUTE = 'headers';
const KEY_ATTRIBUTE = 'key';

/** Group and deduplication ids: 1 to 128 printable ASCII characters. */
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
/** What SQS accepts in a body or attribute value (XML 1.0 characters). */
const INVALID_CHARACTER = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export const hashId = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** What a message looks like on SQS, ready for SendMessageBatch (without its batch entry id). */
export interface EncodedMessage {
  entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  bytes: number;
}

const stringAttribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * The deduplication id: the event id, so a relay that publishes an event again
 * within SQS's five-minute window does not deliver it twice. A dead letter and a
 * redrive carry the event id too, yet must never be taken for the event itself
 * (or a redrive within the window would be dropped silently): theirs are unique
 * per (event, group, parking) and per (event, group, redrive).
 */
function deduplicationId(message: OutgoingMessage, deadLetter: boolean, redriveStamp: string): string {
  const { headers } = message;
  const eventId = headers['ce_id'] ?? hashId(message.topic, message.key, message.value);
  if (deadLetter) {
    // A letter put back marked redriven must not be taken for the letter it replaces.
    return hashId('dead-letter', eventId, headers[DeadLetterHeaders.consumerGroup] ?? '', headers[DeadLetterHeaders.at] ?? '', headers[DeadLetterHeaders.redrivenAt] ?? '');
  }
  const redriveFor = headers[DeadLetterHeaders.redriveFor];
  if (redriveFor !== undefined) return hashId('redrive', eventId, redriveFor, redriveStamp);
  return ID_PATTERN.test(eventId) ? eventId : hashId(eventId);
}

function refuse(message: OutgoingMessage, code: string, reason: string): never {
  throw new BrokerRefusedError(code, `broker refused: message ${message.headers['ce_id'] ?? ''} to ${message.topic} (key ${message.key}): ${reason}`);
}

/**
 * Encodes a message: body = the value as is, `MessageGroupId` = the key (a dead
 * letter gets a group of its own, so listing the DLQ is never held up by FIFO's
 * group locks, and keeps its key in an attribute). Throws a BrokerRefusedError
 * for what SQS would refuse: too large, characters it does not take, a key that
 * cannot be a group id.
 */
export function encodeMessage(message: OutgoingMessage, deadLetter: boolean, redriveStamp: string): EncodedMessage {
  if (message.value.length === 0) refuse(message, 'EmptyMessage', 'SQS does not take an empty body');
  const headersJson = JSON.stringify(message.headers);
  for (const text of [message.value, headersJson]) {
    if (INVALID_CHARACTER.test(text)) refuse(message, 'InvalidMessageContents', 'characters SQS does not take');
  }
  const deduplication = deduplicationId(message, deadLetter, redriveStamp);
  let group = message.key === '' ? EMPTY_KEY_GROUP : message.key;
  if (deadLetter) group = deduplication;
  else if (!ID_PATTERN.test(group)) refuse(message, 'InvalidKey', 'the key must be 1 to 128 printable ASCII characters to be an SQS message group');

  const attributes: Record<string, MessageAttributeValue> = { [HEADERS_ATTRIBUTE]: stringAttribute(headersJson) };
  const type = message.headers[EVENT_TYPE_HEADER];
  if (type) attributes[TYPE_ATTRIBUTE] = stringAttribute(type);
  if (deadLetter && message.key !== '') attributes[KEY_ATTRIBUTE] = stringAttribute(message.key);

  let bytes = Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(attributes)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType!) + Buffer.byteLength(value.StringValue!);
  if (bytes > MAX_MESSAGE_BYTES) refuse(message, 'MessageTooLong', `${bytes} bytes with its attributes, SQS takes at most ${MAX_MESSAGE_BYTES}`);
  return {
    entry: { MessageBody: message.value, MessageGroupId: group, MessageDeduplicationId: deduplication, MessageAttributes: attributes },
    bytes,
  };
}

/** A received message as the consumer and the dead-letter tools see it. */
export interface DecodedMessage {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  sequenceNumber: string;
}

/**
 * The headers come back from their JSON attribute; `ce_type` from its own, so a
 * message whose headers cannot be read still says its type (and is parked as
 * undecodable rather than skipped).
 */
export function decodeMessage(message: Message, deadLetter = false): DecodedMessage {
  const attributes = message.MessageAttributes ?? {};
  let headers: Record<string, string> = {};
  const json = attributes[HEADERS_ATTRIBUTE]?.StringValue;
  if (json !== undefined) {
    try {
      const parsed: unknown = JSON.parse(json);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        headers = Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
      }
    } catch {
      // Left empty: the message cannot be decoded and is parked with the decoder's error.
    }
  }
  const type = attributes[TYPE_ATTRIBUTE]?.StringValue;
  if (type !== undefined) headers[EVENT_TYPE_HEADER] = type;
  const group = message.Attributes?.MessageGroupId;
  let key: string | null = group === undefined ? null : group === EMPTY_KEY_GROUP ? '' : group;
  if (deadLetter) key = attributes[KEY_ATTRIBUTE]?.StringValue ?? '';
  return { key, value: message.Body ?? null, headers, sequenceNumber: message.Attributes?.SequenceNumber ?? '0' };
}

export const RECEIVE_ATTRIBUTES = {
  MessageAttributeNames: ['All'],
  MessageSystemAttributeNames: ['SequenceNumber', 'MessageGroupId', 'ApproximateReceiveCount'],
} as const;
