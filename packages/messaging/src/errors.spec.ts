import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { BrokerRefusedError, BrokerUnavailableError, isMarkedRetriable, isTransientKafkaError, toBrokerError } from './errors';

/** A protocol error as kafkajs builds it from the broker's error code. */
function protocolError(type: string, retriable: boolean): KafkaJSProtocolError {
  return new KafkaJSProtocolError({ type, code: 0, retriable, message: `broker said ${type}` } as unknown as Error);
}

/** What a send that kept failing rejects with once kafkajs's retries are spent. */
function afterRetries(cause: Error): KafkaJSNumberOfRetriesExceeded {
  return new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 1_000 });
}

describe('toBrokerError', () => {
  it.each(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TOPIC_EXCEPTION', 'TOPIC_AUTHORIZATION_FAILED'])(
    'classifies %s as refused for good, keeping the code and the original',
    (type) => {
      const original = protocolError(type, false);

      const error = toBrokerError(original);

      expect(error).toBeInstanceOf(BrokerRefusedError);
      expect(error).toMatchObject({ code: type, retriable: false, cause: original });
      expect(isMarkedRetriable(error)).toBe(false);
      expect(isTransientKafkaError(error)).toBe(false);
    },
  );

  it('classifies an unknown topic as refused once kafkajs gave up retrying it', () => {
    const error = toBrokerError(afterRetries(protocolError('UNKNOWN_TOPIC_OR_PARTITION', true)));

    expect(error).toBeInstanceOf(BrokerRefusedError);
    expect(error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('finds a refusal wrapped by a retrier that bailed out', () => {
    const refused = protocolError('MESSAGE_TOO_LARGE', false);
    // As kafkajs's retrier rejects a non-retriable failure: a new error whose cause is the original.
    const bailed = new (KafkaJSNonRetriableError as unknown as new (e: Error, m: { cause: Error }) => Error)(refused, { cause: refused });

    expect(toBrokerError(bailed)).toMatchObject({ name: 'BrokerRefusedError', code: 'MESSAGE_TOO_LARGE' });
  });

  it.each([
    'NOT_LEADER_OR_FOLLOWER',
    'LEADER_NOT_AVAILABLE',
    'REQUEST_TIMED_OUT',
    'NOT_ENOUGH_REPLICAS',
    'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    'NETWORK_EXCEPTION',
    'NOT_COORDINATOR',
    'OUT_OF_ORDER_SEQUENCE_NUMBER',
    'UNKNOWN_PRODUCER_ID',
    'INVALID_PRODUCER_EPOCH',
    'CLUSTER_AUTHORIZATION_FAILED',
    'INVALID_TIMESTAMP', // clock skew between producer and broker: a retry carries a new timestamp
  ])('classifies %s as the broker being unavailable, so the send is retried', (type) => {
    const error = toBrokerError(afterRetries(protocolError(type, true)));

    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ code: type, retriable: true });
    expect(isMarkedRetriable(error)).toBe(true);
  });

  it.each([
    ['a refused connection', new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), 'KafkaJSConnectionError'],
    ['a request timeout', new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'), 'KafkaJSRequestTimeoutError'],
    ['retries exhausted on a lost connection', afterRetries(new KafkaJSConnectionError('Connection timeout')), 'KafkaJSNumberOfRetriesExceeded'],
    ['a plain network error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'Error'],
    ['a generic kafkajs error', new KafkaJSError('The producer is disconnected'), 'KafkaJSError'],
  ])('classifies %s as the broker being unavailable', (_, original, code) => {
    const error = toBrokerError(original);

    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ code, retriable: true, cause: original });
  });

  it('passes an error it already classified through unchanged', () => {
    const refused = new BrokerRefusedError('MESSAGE_TOO_LARGE', 'too large');
    const unavailable = new BrokerUnavailableError('KafkaJSConnectionError', 'down');

    expect(toBrokerError(refused)).toBe(refused);
    expect(toBrokerError(unavailable)).toBe(unavailable);
  });

  it('names the code in the message, so a log line or dead-letter header says what happened', () => {
    expect(toBrokerError(protocolError('MESSAGE_TOO_LARGE', false)).message).toBe(
      'broker refused: broker said MESSAGE_TOO_LARGE (MESSAGE_TOO_LARGE)',
    );
  });
});
