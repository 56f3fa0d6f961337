import type { IHeaders } from 'kafkajs';

/** Kafka headers as strings; a header sent twice keeps its first value. */
export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

/** The CloudEvents type attribute in binary mode: read before anything is decoded. */
export const EVENT_TYPE_HEADER = 'ce_type';

/**
 * Headers a dead letter carries next to the original ones. Every name starts with
 * `dlq-`, so a redrive can drop them all at once.
 */
export const DeadLetterHeaders = {
  error: 'dlq-error',
  errorName: 'dlq-error-name',
  /** The original topic as consumed, i.e. with the environment's topic prefix. */
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  /** The consumer group that parked it, as configured: without the topic prefix. */
  consumerGroup: 'dlq-consumer-group',
  attempts: 'dlq-attempts',
  at: 'dlq-at',
  /**
   * Set on a redriven event: only this consumer group (unprefixed) handles it; every
   * other group reading the topic commits past it without decoding it.
   */
  redriveFor: 'dlq-redrive-for',
  /**
   * On a letter in a queue-based broker's dead-letter queue (RabbitMQ, SQS): when
   * it was redriven. Those brokers cannot keep a letter in place and record it
   * elsewhere as Kafka does (`<topic>.dlq.redriven`), so a redrive puts the letter
   * back into the dead-letter queue with this header, after republishing the event:
   * the queue stays the whole record of what failed, and a later redrive skips it.
   */
  redrivenAt: 'dlq-redriven-at',
} as const;

export const DEAD_LETTER_HEADER_PREFIX = 'dlq-';
