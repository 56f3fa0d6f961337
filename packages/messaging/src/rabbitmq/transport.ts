import { TOPIC_PARTITIONS, type TopicName } from '@orderflow/contracts';
import type * as amqp from 'amqplib';
import type { DeadLetter, RedriveResult } from '../dead-letters';
import type { PartitionLag, Subscriber, Transport, TransportOptions } from '../transport';
import { RABBITMQ_URL_VARIABLE, closeQuietly, openChannel, openConnection, redactUrl, toRabbitError, within } from './connection';
import { listRabbitDeadLetters, redriveRabbitDeadLetters } from './dead-letters';
import { rabbitLag } from './lag';
import { RabbitMqPublisher } from './publisher';
import { RabbitMqSubscriber } from './subscriber';
import { declareTopology, topologyNames, type Naming } from './topology';

export interface RabbitMqTransportOptions extends TransportOptions {
  /** `amqp://user:password@host:5672/vhost` (RABBITMQ_URL). */
  url: string;
  /** Partition queues per (group, topic). Default TOPIC_PARTITIONS, as Kafka's partitions. */
  partitions?: number;
}

/**
 * RabbitMQ without plugins: a direct exchange per topic, a quorum queue per
 * (group, topic, partition) with single active consumer, routed by Kafka's
 * partition of the key, and a fanout exchange and queue per dead-letter topic (see
 * topology.ts for why, and its limitation: the first instance of a group consumes
 * every partition, the others stand by). Publishing waits for publisher confirms.
 */
export class RabbitMqTransport implements Transport {
  readonly kind = 'rabbitmq' as const;
  readonly addressVariable = RABBITMQ_URL_VARIABLE;
  readonly description: string;
  private readonly naming: Naming;
  private admin: Promise<amqp.ChannelModel> | undefined;
  private readonly publishers = new Set<RabbitMqPublisher>();
  private readonly subscribers = new Set<RabbitMqSubscriber>();
  private deadLetterPublisher: RabbitMqPublisher | undefined;
  private connections = 0;

  constructor(private readonly options: RabbitMqTransportOptions) {
    const partitions = options.partitions ?? TOPIC_PARTITIONS;
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`RabbitMqTransport: partitions must be an integer >= 1 (got ${partitions})`);
    this.naming = { prefix: options.topicPrefix ?? '', partitions };
    this.description = `RabbitMQ at ${redactUrl(options.url)}`;
  }

  async setUp(): Promise<string[]> {
    this.options.onRequest?.('admin', 'declare');
    return declareTopology(await this.adminConnection(), this.naming);
  }

  async reachable(): Promise<boolean> {
    try {
      const connection = await this.adminConnection();
      await within(5_000, 'opening a channel', openChannel(connection).then(closeQuietly));
      return true;
    } catch {
      return false;
    }
  }

  publisher(): RabbitMqPublisher {
    const onRequest = this.options.onRequest;
    const publisher = new RabbitMqPublisher({
      ...this.naming,
      url: this.options.url,
      connectionName: this.connectionName('publisher'),
      ...(this.options.logger ? { logger: this.options.logger } : {}),
      ...(onRequest ? { onRequest: (api: string) => onRequest('producer', api) } : {}),
    });
    this.publishers.add(publisher);
    return publisher;
  }

  subscriber(options: Parameters<Transport['subscriber']>[0]): Subscriber {
    const onRequest = this.options.onRequest;
    const subscriber = new RabbitMqSubscriber(
      {
        ...options,
        topicPrefix: this.naming.prefix,
        deadLetters: this.parking(),
        ...(onRequest ? { onRequest: (api: string) => onRequest('consumer', api) } : {}),
      },
      { ...this.naming, url: this.options.url, connectionName: this.connectionName(`consumer ${options.groupId}`) },
    );
    this.subscribers.add(subscriber);
    return subscriber;
  }

  async lag(topics: readonly TopicName[]): Promise<PartitionLag[]> {
    return rabbitLag(await this.adminConnection(), this.naming, topics);
  }

  async listDeadLetters(query: Parameters<Transport['listDeadLetters']>[0]): Promise<DeadLetter[]> {
    return listRabbitDeadLetters(await this.adminConnection(), this.naming, query);
  }

  async redriveDeadLetters(options: Parameters<Transport['redriveDeadLetters']>[0]): Promise<RedriveResult> {
    return redriveRabbitDeadLetters(await this.adminConnection(), this.parking(), this.naming, options);
  }

  /** Deletes this prefix's queues (with their messages) and exchanges: for tests and throw-away environments. */
  async tearDown(): Promise<void> {
    if (!this.naming.prefix) throw new Error('RabbitMqTransport.tearDown needs a topic prefix: it would delete the live topology');
    const connection = await this.adminConnection();
    const { exchanges, queues } = topologyNames(this.naming);
    // A delete of something missing may close its channel: one channel per name.
    const remove = async (work: (channel: amqp.Channel) => Promise<unknown>): Promise<void> => {
      const channel = await openChannel(connection);
      await work(channel).catch(() => undefined);
      await closeQuietly(channel);
    };
    for (const queue of queues) await remove((channel) => channel.deleteQueue(queue));
    for (const exchange of exchanges) await remove((channel) => channel.deleteExchange(exchange));
  }

  /** Closes the publishers' and the admin connection, and any subscriber its owner did not stop. */
  async close(): Promise<void> {
    await Promise.all([...this.subscribers].map((s) => s.stop().catch(() => undefined)));
    await Promise.all([...this.publishers].map((p) => p.disconnect().catch(() => undefined)));
    const admin = this.admin;
    this.admin = undefined;
    await closeQuietly(await admin?.catch(() => undefined));
  }

  /** The one publisher dead letters and redrives go through. */
  private parking(): RabbitMqPublisher {
    this.deadLetterPublisher ??= this.publisher();
    return this.deadLetterPublisher;
  }

  private connectionName(role: string): string {
    return `${this.options.clientId} ${role} #${++this.connections}`;
  }

  /** One connection for set-up, lag and dead letters; a new one after it was lost. */
  private adminConnection(): Promise<amqp.ChannelModel> {
    this.admin ??= openConnection(this.options.url, this.connectionName('admin')).then(
      (connection) => {
        connection.on('close', () => {
          if (this.admin) void this.admin.then((current) => current === connection && (this.admin = undefined));
        });
        return connection;
      },
      (error: unknown) => {
        this.admin = undefined;
        throw toRabbitError(error);
      },
    );
    return this.admin;
  }
}
