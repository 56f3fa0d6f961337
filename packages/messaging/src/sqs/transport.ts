import { DeleteQueueCommand, ListQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, RedriveResult } from '../dead-letters';
import type { PartitionLag, Subscriber, Transport, TransportOptions } from '../transport';
import { createSqsClient, type SqsRole } from './client';
import { listSqsDeadLetters, redriveSqsDeadLetters } from './dead-letters';
import { toSqsBrokerError } from './errors';
import { queueLag } from './lag';
import { SqsPublisher } from './publisher';
import { SqsSubscriber } from './subscriber';
import { QueueUrls, SqsTopology, ensureQueues, listQueueUrls } from './topology';

export interface SqsTransportOptions extends TransportOptions {
  /** SQS_ENDPOINT, e.g. `http://127.0.0.1:9324` for ElasticMQ; empty or absent: AWS's endpoint for the region. */
  endpoint?: string;
  /** AWS_REGION. */
  region: string;
  /** How long a received message stays hidden from other receivers; extended while it is being handled. Default 30. */
  visibilityTimeoutSeconds?: number;
  /** Concurrent long polls per queue. Default 2. */
  receivers?: number;
}

/** Long polls last up to 20 s; a request may take that plus the network. */
const CONSUMER_REQUEST_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;

function integerIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`SqsTransport: ${name} must be an integer from ${min} to ${max} (got ${value})`);
  return value;
}

/** The endpoint for log lines: without any credentials written into the URL. */
function shownEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint)';
  }
}

/**
 * SQS (or ElasticMQ): a FIFO queue per (consumer group, topic), filled by the
 * publisher's fan-out, and a FIFO dead-letter queue per topic. Per-key order is
 * FIFO's per-message-group order; the event id is the deduplication id.
 */
export class SqsTransport implements Transport {
  readonly kind = 'sqs' as const;
  readonly addressVariable = 'SQS_ENDPOINT';
  readonly description: string;
  private readonly topology: SqsTopology;
  private readonly clients = new Map<SqsRole, SQSClient>();
  private readonly visibilityTimeoutSeconds: number;
  private readonly receivers: number;
  private urlCache: QueueUrls | undefined;
  private deadLetterPublisher: SqsPublisher | undefined;

  constructor(private readonly options: SqsTransportOptions) {
    if (!options.region) throw new RangeError('SqsTransport: region (AWS_REGION) is required');
    this.visibilityTimeoutSeconds = integerIn('visibilityTimeoutSeconds', options.visibilityTimeoutSeconds ?? 30, 1, 43_200);
    this.receivers = integerIn('receivers', options.receivers ?? 2, 1, 100);
    this.topology = new SqsTopology(options.topicPrefix ?? '');
    this.description = `SQS at ${options.endpoint ? shownEndpoint(options.endpoint) : 'AWS'} (${options.region})`;
  }

  async setUp(): Promise<string[]> {
    return ensureQueues(this.client('admin'), this.urls, this.topology, this.visibilityTimeoutSeconds);
  }

  async reachable(): Promise<boolean> {
    try {
      await this.client('admin').send(new ListQueuesCommand({ MaxResults: 1, ...(this.topology.namePrefix ? { QueueNamePrefix: this.topology.namePrefix } : {}) }), {
        abortSignal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      return true;
    } catch {
      return false;
    }
  }

  publisher(): SqsPublisher {
    return new SqsPublisher(this.client('producer'), this.urls, this.topology);
  }

  subscriber(options: Parameters<Transport['subscriber']>[0]): Subscriber {
    return new SqsSubscriber(
      this.client('consumer'),
      this.urls,
      this.topology,
      { logger: this.options.logger, ...options, topicPrefix: this.topology.topicPrefix, deadLetters: this.parking() },
      { visibilityTimeoutSeconds: this.visibilityTimeoutSeconds, receivers: this.receivers },
    );
  }

  async lag(topics: readonly string[]): Promise<PartitionLag[]> {
    try {
      return await queueLag(this.client('admin'), this.urls, this.topology, topics);
    } catch (error) {
      throw toSqsBrokerError(error);
    }
  }

  listDeadLetters(query: Parameters<Transport['listDeadLetters']>[0]): Promise<DeadLetter[]> {
    return listSqsDeadLetters(this.client('admin'), this.urls, this.topology, query);
  }

  redriveDeadLetters(options: Parameters<Transport['redriveDeadLetters']>[0]): Promise<RedriveResult> {
    return redriveSqsDeadLetters(this.client('admin'), this.urls, this.topology, this.parking(), options);
  }

  async tearDown(): Promise<void> {
    if (!this.topology.namePrefix) throw new Error('SqsTransport.tearDown needs a topic prefix: it would delete every queue of the account');
    const client = this.client('admin');
    for (const url of await listQueueUrls(client, this.topology.namePrefix)) {
      await client.send(new DeleteQueueCommand({ QueueUrl: url }));
    }
    this.urlCache = undefined;
  }

  close(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.urlCache = undefined;
    this.deadLetterPublisher = undefined;
    return Promise.resolve();
  }

  /** Queue URLs are looked up once per transport, with the admin client. */
  private get urls(): QueueUrls {
    this.urlCache ??= new QueueUrls(this.client('admin'));
    return this.urlCache;
  }

  /** The one publisher dead letters and redrives go through. */
  private parking(): SqsPublisher {
    this.deadLetterPublisher ??= this.publisher();
    return this.deadLetterPublisher;
  }

  private client(role: SqsRole): SQSClient {
    let client = this.clients.get(role);
    if (!client) {
      client = createSqsClient(
        { endpoint: this.options.endpoint, region: this.options.region, clientId: this.options.clientId, onRequest: this.options.onRequest },
        role,
        role === 'consumer' ? CONSUMER_REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS,
      );
      this.clients.set(role, client);
    }
    return client;
  }
}
