/**
 * Errors are classified once, here: retriable failures (broker, network, database
 * unavailable, a lost optimistic-concurrency race) are retried without limit while
 * the partition waits; anything else is a poison event after a few attempts.
 */
export type ErrorClassifier = (error: unknown) => boolean;

export class RetriableError extends Error {
  override readonly name = 'RetriableError';
  readonly retriable = true;
}

export function isMarkedRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

const KAFKA_TRANSIENT = /KafkaJSConnectionError|KafkaJSNumberOfRetriesExceeded|KafkaJSRequestTimeoutError|KafkaJSBrokerNotFound|KafkaJSNonRetriableError/;

export function isTransientKafkaError(error: unknown): boolean {
  const e = error as { name?: unknown; retriable?: unknown } | null;
  return typeof e?.name === 'string' && (KAFKA_TRANSIENT.test(e.name) || (e.name.startsWith('KafkaJS') && e.retriable === true));
}
