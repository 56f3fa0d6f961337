/**
 * Errors carry their retry class from where they are made: the publisher wraps
 * every kafkajs failure into a BrokerUnavailableError (retriable: the broker is
 * down, moving leaders, slow) or a BrokerRefusedError (not retriable: this record
 * or topic will never be accepted as it is). The consumer retries anything marked
 * retriable without limit while the partition waits; anything else is a poison
 * event after a few attempts.
 */
export type ErrorClassifier = (error: unknown) => boolean;

export class RetriableError extends Error {
  override readonly name = 'RetriableError';
  readonly retriable = true;
}

export function isMarkedRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/** The broker could not take the messages now; sending them again later can succeed. */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
  readonly retriable = true;
  constructor(
    /** The Kafka protocol error type (e.g. `NOT_LEADER_OR_FOLLOWER`) or the kafkajs error name. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The broker refused the messages for good: sending the same ones again cannot succeed. */
export class BrokerRefusedError extends Error {
  override readonly name = 'BrokerRefusedError';
  readonly retriable = false;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type BrokerError = BrokerUnavailableError | BrokerRefusedError;

/**
 * Refusals tied to the records or their topic. Everything else (connection loss,
 * timeouts, leader changes, throttling, the idempotent producer's sequence
 * errors, which a fresh producer clears) is worth retrying.
 * UNKNOWN_TOPIC_OR_PARTITION is retriable inside kafkajs (metadata can lag a
 * topic's creation); it reaches us only after the client's own retries.
 */
const REFUSED_FOR_GOOD = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_AUTHORIZATION_FAILED',
]);

interface KafkaJsErrorShape {
  name?: unknown;
  type?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** The innermost Kafka protocol error type kafkajs reports, through its retry and aggregate wrappers. */
function protocolType(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 5) return undefined;
  const e = error as KafkaJsErrorShape;
  if (typeof e.type === 'string') return e.type;
  for (const inner of [e.cause, e.originalError, ...(Array.isArray(e.errors) ? (e.errors as unknown[]) : [])]) {
    const type = protocolType(inner, depth + 1);
    if (type) return type;
  }
  return undefined;
}

/** Whether a partition answered a request with this error (a Kafka protocol error), rather than the request failing as a whole (connection, timeout). */
export function isPartitionError(error: unknown): boolean {
  return protocolType(error) !== undefined;
}

/** Classifies a failure of a kafkajs call once, where it happened; our coded errors pass unchanged. */
export function toBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerUnavailableError || error instanceof BrokerRefusedError) return error;
  const type = protocolType(error);
  const name = typeof (error as KafkaJsErrorShape | null)?.name === 'string' ? String((error as KafkaJsErrorShape).name) : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  if (type && REFUSED_FOR_GOOD.has(type)) return new BrokerRefusedError(type, `broker refused: ${message} (${type})`, { cause: error });
  return new BrokerUnavailableError(type ?? name, `broker unavailable: ${message} (${type ?? name})`, { cause: error });
}

const KAFKA_TRANSIENT = /KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSRequestTimeoutError|KafkaJSBrokerNotFound|KafkaJSNonRetriableError/;

/**
 * For kafkajs errors that reach a handler without passing the publisher (e.g. a
 * handler using its own client). Errors made by this package are marked instead.
 */
export function isTransientKafkaError(error: unknown): boolean {
  if (error instanceof BrokerRefusedError) return false;
  if (error instanceof BrokerUnavailableError) return true;
  const e = error as { name?: unknown; retriable?: unknown } | null;
  return typeof e?.name === 'string' && (KAFKA_TRANSIENT.test(e.name) || (e.name.startsWith('KafkaJS') && e.retriable === true));
}
