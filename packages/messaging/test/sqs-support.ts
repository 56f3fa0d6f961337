import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { Subscriber } from '../src';
import { SqsTransport, type SqsTransportOptions } from '../src/sqs/transport';
import { randomSuffix } from './support';

export const SQS_ENDPOINT = process.env['SQS_ENDPOINT'] ?? 'http://127.0.0.1:9324';
export const SQS_REGION = process.env['AWS_REGION'] ?? 'us-east-1';

// ElasticMQ checks no credentials, but the SDK's default chain needs some; set here so
// it never goes looking for an instance role on the network.
process.env['AWS_ACCESS_KEY_ID'] ??= 'elasticmq';
process.env['AWS_SECRET_ACCESS_KEY'] ??= 'elasticmq';
process.env['AWS_EC2_METADATA_DISABLED'] ??= 'true';

export function sqsTransport(prefix: string, options: Partial<SqsTransportOptions> = {}): SqsTransport {
  return new SqsTransport({ endpoint: SQS_ENDPOINT, region: SQS_REGION, topicPrefix: prefix, clientId: 'it-sqs', ...options });
}

/**
 * One test's own queues on the shared ElasticMQ: a transport under a random prefix
 * whose queues `cleanup()` deletes, and a plain client to look at them from outside.
 */
export class SqsSandbox {
  readonly prefix = `it-${randomSuffix()}.`;
  readonly transport: SqsTransport;
  readonly client = new SQSClient({ endpoint: SQS_ENDPOINT, region: SQS_REGION });
  private readonly subscribers: Subscriber[] = [];
  private readonly closers: (() => Promise<unknown>)[] = [];

  constructor(options: Partial<SqsTransportOptions> = {}) {
    this.transport = sqsTransport(this.prefix, options);
  }

  /** Another transport on the same queues (another instance of a service). */
  sibling(options: Partial<SqsTransportOptions> = {}): SqsTransport {
    const transport = sqsTransport(this.prefix, options);
    this.closers.push(() => transport.close());
    return transport;
  }

  /** Registers a subscriber to stop at cleanup (before the queues go). */
  track<S extends Subscriber>(subscriber: S): S {
    this.subscribers.push(subscriber);
    return subscriber;
  }

  async untrack(subscriber: Subscriber): Promise<void> {
    this.subscribers.splice(this.subscribers.indexOf(subscriber), 1);
    await subscriber.stop();
  }

  onCleanup(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** `<prefix><group>--<topic>.fifo` as the transport names it. */
  groupQueue(group: string, topic = 'orders.events'): string {
    return `${this.prefix.replace(/[^A-Za-z0-9_-]/g, '-')}${group}--${topic.replace(/\./g, '-')}.fifo`;
  }

  deadLetterQueue(topic = 'orders.events'): string {
    return `${this.prefix.replace(/[^A-Za-z0-9_-]/g, '-')}${topic.replace(/\./g, '-')}--dlq.fifo`;
  }

  async url(queue: string): Promise<string> {
    return (await this.client.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl!;
  }

  async attributes(queue: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: await this.url(queue), AttributeNames: ['All'] }));
    return Attributes;
  }

  /** Messages in the queue, waiting and in flight (approximate, exact on ElasticMQ). */
  async depth(queue: string): Promise<{ waiting: number; inFlight: number }> {
    const a = await this.attributes(queue);
    return { waiting: Number(a['ApproximateNumberOfMessages']), inFlight: Number(a['ApproximateNumberOfMessagesNotVisible']) };
  }

  /** Puts a message straight into a queue, bypassing the publisher's encoding. */
  async sendRaw(queue: string, body: string, attributes: Record<string, string>, group = 'raw', dedup = randomSuffix()): Promise<void> {
    const MessageAttributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(attributes)) MessageAttributes[name] = { DataType: 'String', StringValue: value };
    await this.client.send(new SendMessageCommand({ QueueUrl: await this.url(queue), MessageBody: body, MessageGroupId: group, MessageDeduplicationId: dedup, MessageAttributes }));
  }

  async cleanup(): Promise<void> {
    for (const s of this.subscribers.splice(0).reverse()) await s.stop().catch(() => undefined);
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    await this.transport.tearDown().catch(() => undefined);
    await this.transport.close();
    this.client.destroy();
  }
}
