import { SQSServiceException, type BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { BrokerRefusedError, BrokerUnavailableError, type BrokerError } from '../errors';

/**
 * SQS answers that are worth retrying although the service marks them as the
 * client's fault: throttling, and a FIFO queue's cap on messages in flight. Every
 * other client fault (a missing queue, a refused message or attribute, access
 * denied) is a refusal; server faults and anything that never reached the service
 * (connection refused, timeouts, no credentials yet) are outages.
 */
const TRANSIENT_CODES = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'AWS.SimpleQueueService.RequestThrottled',
  'OverLimit',
  'KmsThrottled',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
]);

interface ServiceErrorShape {
  name?: unknown;
  /** The query-protocol code SQS sends next to the JSON one (`AWS.SimpleQueueService.NonExistentQueue`). */
  Code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
}

/** The service's error code, or the client's error name for failures that never reached it. */
function codeOf(error: unknown): string {
  const e = (error ?? {}) as ServiceErrorShape;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.Code === 'string') return e.Code;
  return (error as { code?: unknown } | null)?.code?.toString() ?? 'Error';
}

function isTransientServiceError(error: SQSServiceException): boolean {
  const e = error as ServiceErrorShape;
  if (e.$fault === 'server' || e.$retryable) return true;
  return TRANSIENT_CODES.has(error.name) || (typeof e.Code === 'string' && TRANSIENT_CODES.has(e.Code));
}

/** Classifies a failed SQS call once, where it happened; our coded errors pass unchanged. */
export function toSqsBrokerError(error: unknown, context?: string): BrokerError {
  if (error instanceof BrokerUnavailableError || error instanceof BrokerRefusedError) return error;
  const code = codeOf(error);
  const message = `${context ? `${context}: ` : ''}${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof SQSServiceException && !isTransientServiceError(error)) {
    return new BrokerRefusedError(code, `broker refused: ${message} (${code})`, { cause: error });
  }
  return new BrokerUnavailableError(code, `broker unavailable: ${message} (${code})`, { cause: error });
}

/** A failed entry of a batch request: the sender's fault is a refusal of that message, anything else an outage. */
export function batchEntryError(entry: BatchResultErrorEntry, context: string): BrokerError {
  const code = entry.Code ?? 'Unknown';
  const message = `${context}: ${entry.Message ?? code}`;
  if (entry.SenderFault && !TRANSIENT_CODES.has(code)) return new BrokerRefusedError(code, `broker refused: ${message} (${code})`);
  return new BrokerUnavailableError(code, `broker unavailable: ${message} (${code})`);
}

/** The queue named in a request does not exist (any more). */
export function isMissingQueue(error: unknown): boolean {
  const code = error instanceof BrokerRefusedError ? error.code : codeOf(error);
  return code === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue';
}
