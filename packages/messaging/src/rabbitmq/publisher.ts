import type * as amqp from 'amqplib';
import { BrokerRefusedError, type BrokerError } from '../errors';
import type { MessagingLogger } from '../kafka';
import type { OutgoingMessage, PartitionedSendReport } from '../publisher';
import type { Publisher } from '../transport';
import { closeQuietly, openConfirmChannel, openConnection, toRabbitError, within } from './connection';
import { KEY_HEADER } from './headers';
import { exchangeOf, isDeadLetterTopic, partitionOfKey, routingKeyOf, type Naming } from './topology';

export interface RabbitMqPublisherOptions extends Naming {
  url: string;
  /** The connection's name on the broker. */
  connectionName: string;
  logger?: MessagingLogger;
  onRequest?: (api: string) => void;
  /** Longest wait for the broker's confirms of one send. Default 15 000 ms. */
  confirmTimeoutMs?: number;
}

interface Session {
  connection: amqp.ChannelModel;
  channel: amqp.ConfirmChannel & { closedBy?: Error };
  /** The first message the broker returned (unroutable) during the current send. */
  returned?: amqp.Message;
}

/**
 * Publishes with publisher confirms on one confirm channel. Every message is
 * persistent and mandatory, so a message no queue would take (the topology was not
 * set up) comes back as a failure instead of vanishing. Sends run one at a time:
 * a `basic.return` then belongs to the send in flight (RabbitMQ returns an
 * unroutable message before confirming it). A lost connection or channel is
 * replaced on the next send; every wait is bounded.
 */
export class RabbitMqPublisher implements Publisher {
  private session: Promise<Session> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly confirmTimeoutMs: number;

  constructor(private readonly options: RabbitMqPublisherOptions) {
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 15_000;
  }

  async connect(): Promise<void> {
    await this.exclusively(() => this.currentSession());
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.exclusively(() => this.publish(messages));
  }

  /**
   * Publishes each (topic, partition) group on its own and waits for its confirms
   * before the next, so a failure is attributable to exactly that group's messages.
   * The partition is the one the routing key names (Kafka's murmur2 of the key);
   * dead-letter topics have one, partition 0.
   */
  async sendByPartition<M extends OutgoingMessage>(messages: readonly M[]): Promise<PartitionedSendReport<M>> {
    const report: PartitionedSendReport<M> = { acked: [], failed: [] };
    if (messages.length === 0) return report;
    const groups = new Map<string, { topic: string; partition: number; messages: M[] }>();
    for (const message of messages) {
      const partition = isDeadLetterTopic(message.topic) ? 0 : partitionOfKey(message.key, this.options.partitions);
      const id = `${message.topic}\u0000${partition}`;
      const group = groups.get(id) ?? { topic: message.topic, partition, messages: [] };
      group.messages.push(message);
      groups.set(id, group);
    }
    await this.exclusively(async () => {
      for (const group of groups.values()) {
        try {
          await this.publish(group.messages);
          report.acked.push(...group.messages);
        } catch (error) {
          report.failed.push({ ...group, error: error as BrokerError });
        }
      }
    });
    return report;
  }

  async disconnect(): Promise<void> {
    await this.exclusively(() => this.discard());
  }

  private async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const session = await this.currentSession();
    const { channel } = session;
    session.returned = undefined;
    try {
      const confirms = messages.map(
        (message) =>
          new Promise<void>((resolve, reject) => {
            this.options.onRequest?.('publish');
            channel.publish(exchangeOf(this.options, message.topic), routingKeyOf(this.options, message.topic, message.key), Buffer.from(message.value), properties(message), (error: unknown) =>
              error ? reject(channel.closedBy ?? (error instanceof Error ? error : new Error('publish failed'))) : resolve(),
            );
          }),
      );
      await within(this.confirmTimeoutMs, `${messages.length} publish confirm(s)`, Promise.all(confirms), () => void this.drop(session));
    } catch (error) {
      // A closed channel (e.g. 404: no such exchange) cannot publish again; the next send opens a new one.
      if (channel.closedBy || !(error instanceof Error && /nack/i.test(error.message))) await this.drop(session);
      throw toRabbitError(channel.closedBy ?? error);
    }
    const returned = session.returned as amqp.Message | undefined;
    if (returned) {
      const { exchange, routingKey, replyText } = returned.fields as { exchange?: string; routingKey?: string; replyText?: string };
      throw new BrokerRefusedError(
        'NO_ROUTE',
        `RabbitMQ could not route a message to any queue (exchange '${exchange}', routing key '${routingKey}': ${replyText ?? 'unroutable'}); was the topology set up?`,
      );
    }
  }

  private currentSession(): Promise<Session> {
    this.session ??= this.open().catch((error: unknown) => {
      this.session = undefined;
      throw toRabbitError(error);
    });
    return this.session;
  }

  private async open(): Promise<Session> {
    const connection = await openConnection(this.options.url, this.options.connectionName);
    const channel = await within(this.confirmTimeoutMs, 'opening a channel', openConfirmChannel(connection), () => void closeQuietly(connection));
    const session: Session = { connection, channel };
    channel.on('return', (message: amqp.Message) => (session.returned ??= message));
    connection.on('close', (error?: Error) => {
      if (error) this.options.logger?.warn(`RabbitMQ publisher connection lost (${error.message}); the next send reconnects`);
      void this.drop(session);
    });
    // The connection exists for this channel alone: once the channel is gone, so is the session.
    channel.on('close', () => void this.drop(session));
    return session;
  }

  /** Forgets `session` if it is still the current one, and closes its connection. */
  private async drop(session: Session): Promise<void> {
    const current = await this.session?.catch(() => undefined);
    if (current === session) this.session = undefined;
    await closeQuietly(session.connection);
  }

  private async discard(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    const current = await session?.catch(() => undefined);
    if (current) await this.drop(current);
  }

  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** AMQP properties: the key and the CloudEvents headers travel as headers, the event id as message id. */
function properties(message: OutgoingMessage): amqp.Options.Publish {
  const sentAt = message.timestamp ? Number(message.timestamp) : Date.now();
  return {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    headers: { ...message.headers, [KEY_HEADER]: message.key },
    ...(message.headers['ce_id'] ? { messageId: message.headers['ce_id'] } : {}),
    // AMQP timestamps are seconds.
    timestamp: Math.floor(sentAt / 1000),
  };
}
