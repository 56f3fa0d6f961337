import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { BrokerRefusedError, BrokerUnavailableError, DeadLetterHeaders } from '../src';
import { SqsTransport } from '../src/sqs/transport';
import { SQS_REGION, SqsSandbox, sqsTransport } from './sqs-support';
import { orderConfirmed, orderPlaced, randomSuffix, wire } from './support';

let sandbox: SqsSandbox;

beforeEach(() => {
  sandbox = new SqsSandbox({ visibilityTimeoutSeconds: 7 });
});

afterEach(async () => {
  await sandbox.cleanup();
});

/** What waits in a queue, read without deleting (hidden for a minute): FIFO gives one receive of each message group. */
async function peek(queue: string) {
  return receiveFrom(queue, 60);
}

async function receiveFrom(queue: string, visibilitySeconds: number) {
  const out = await sandbox.client.send(
    new ReceiveMessageCommand({
      QueueUrl: await sandbox.url(queue),
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: visibilitySeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'SequenceNumber'],
    }),
  );
  return out.Messages ?? [];
}

/** Receives and deletes until the queue answers empty, like a consumer. */
async function drain(queue: string) {
  const all = [];
  for (;;) {
    const messages = await receiveFrom(queue, 30);
    if (messages.length === 0) return all;
    all.push(...messages);
    await sandbox.client.send(
      new DeleteMessageBatchCommand({ QueueUrl: await sandbox.url(queue), Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}

describe('SqsTransport.setUp', () => {
  it('creates a FIFO queue per group and topic with a redrive policy to the topic’s FIFO dead-letter queue, once', async () => {
    const created = await sandbox.transport.setUp();
    expect(created).toEqual(expect.arrayContaining([sandbox.groupQueue('payment'), sandbox.groupQueue('orders', 'payments.events'), sandbox.deadLetterQueue()]));
    // 5 dead-letter queues, and payment, inventory, shipping on orders.events plus orders on the four others.
    expect(created).toHaveLength(12);
    expect(await sandbox.transport.setUp()).toEqual([]);

    const queue = await sandbox.attributes(sandbox.groupQueue('inventory'));
    const dlq = await sandbox.attributes(sandbox.deadLetterQueue());
    expect(queue).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'false', VisibilityTimeout: '7' });
    expect(JSON.parse(queue['RedrivePolicy']!)).toMatchObject({ deadLetterTargetArn: dlq['QueueArn'], maxReceiveCount: 10 });
    expect(dlq['FifoQueue']).toBe('true');
  });

  it('brings an existing queue’s attributes in line', async () => {
    await sandbox.transport.setUp();
    const longer = sandbox.sibling({ visibilityTimeoutSeconds: 45 });
    expect(await longer.setUp()).toEqual([]);
    expect((await sandbox.attributes(sandbox.groupQueue('shipping')))['VisibilityTimeout']).toBe('45');
  });

  it('refuses a prefix that makes a queue name longer than SQS allows, naming it', async () => {
    const transport = sqsTransport(`it-${'x'.repeat(60)}.`);
    sandbox.onCleanup(() => transport.close());
    await expect(transport.setUp()).rejects.toThrow(/at most 80 characters.*-orders--inventory-products\.fifo/);
  });
});

describe('SqsPublisher', () => {
  beforeEach(async () => {
    await sandbox.transport.setUp();
  });

  it('sends a topic’s message to every group’s queue, keyed by message group, with the event id as deduplication id', async () => {
    const event = orderPlaced();
    await sandbox.transport.publisher().send([wire(event)]);
    for (const group of ['payment', 'inventory', 'shipping']) {
      const [message, ...rest] = await peek(sandbox.groupQueue(group));
      expect(rest).toEqual([]);
      expect(message?.Attributes).toMatchObject({ MessageGroupId: event.subject, MessageDeduplicationId: event.id });
      expect(message?.MessageAttributes?.['ce_type']?.StringValue).toBe('OrderPlaced');
      expect(JSON.parse(message!.MessageAttributes!['headers']!.StringValue!)).toEqual(wire(event).headers);
      expect(message?.Body).toBe(wire(event).value);
    }
  });

  it('drops an event sent again within the deduplication window, but never a redrive of it', async () => {
    const event = orderPlaced();
    const publisher = sandbox.transport.publisher();
    await publisher.send([wire(event)]);
    await publisher.send([wire(event)]);
    const redrive = { ...wire(event), headers: { ...wire(event).headers, [DeadLetterHeaders.redriveFor]: 'payment' } };
    await publisher.send([redrive]);
    await publisher.send([redrive]);
    const payment = await peek(sandbox.groupQueue('payment'));
    // The original once, and each redrive: a redrive is a new delivery by intent.
    expect(payment.map((m) => (JSON.parse(m.MessageAttributes!['headers']!.StringValue!) as Record<string, string>)[DeadLetterHeaders.redriveFor] ?? null)).toEqual([null, 'payment', 'payment']);
    // A redrive goes to its group's queue only.
    expect(await peek(sandbox.groupQueue('inventory'))).toHaveLength(1);
  });

  it('keeps each key’s order in each queue across requests of ten', async () => {
    const keys = [`order-${randomUUID()}`, `order-${randomUUID()}`];
    const events = Array.from({ length: 14 }, (_, i) => (i < 2 ? orderPlaced(keys[i]) : orderConfirmed(keys[i % 2]!)));
    await sandbox.transport.publisher().send(events.map((e) => wire(e)));
    const received = await drain(sandbox.groupQueue('shipping'));
    expect(received).toHaveLength(events.length);
    for (const key of keys) {
      expect(received.filter((m) => m.Attributes?.['MessageGroupId'] === key).map((m) => m.Attributes?.['MessageDeduplicationId'])).toEqual(
        events.filter((e) => e.subject === key).map((e) => e.id),
      );
    }
  });

  it('refuses a message over 256 KiB as a BrokerRefusedError, and sendByPartition holds back its key’s later messages only', async () => {
    const [a, b] = [`order-${randomUUID()}`, `order-${randomUUID()}`];
    const big = { ...wire(orderConfirmed(a)), value: 'x'.repeat(256 * 1024) };
    await expect(sandbox.transport.publisher().send([big])).rejects.toBeInstanceOf(BrokerRefusedError);

    const first = wire(orderPlaced(a));
    const after = wire(orderConfirmed(a));
    const other = wire(orderPlaced(b));
    const report = await sandbox.transport.publisher().sendByPartition([first, big, after, other]);
    expect(report.acked).toEqual([first, other]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]).toMatchObject({ topic: 'orders.events', messages: [big, after] });
    expect(report.failed[0]!.error).toBeInstanceOf(BrokerRefusedError);
    expect((await peek(sandbox.groupQueue('payment'))).map((m) => m.Attributes?.['MessageDeduplicationId'])).toEqual(
      expect.arrayContaining([first.headers['ce_id'], other.headers['ce_id']]),
    );
  });

  it('refuses a send to a queue that does not exist', async () => {
    const transport = sqsTransport(`it-${randomSuffix()}.`);
    sandbox.onCleanup(() => transport.close());
    const error = await transport.publisher().send([wire(orderPlaced())]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerRefusedError);
    expect((error as BrokerRefusedError).code).toMatch(/QueueDoesNotExist|NonExistentQueue/);
  });

  it('refuses a topic the contracts do not know', async () => {
    await expect(sandbox.transport.publisher().send([{ ...wire(orderPlaced()), topic: 'nobody.reads.this' }])).rejects.toBeInstanceOf(BrokerRefusedError);
  });
});

describe('SqsTransport with nothing listening at the endpoint', () => {
  it('fails fast with a BrokerUnavailableError, and is not reachable', async () => {
    const transport = new SqsTransport({ endpoint: 'http://127.0.0.1:1', region: SQS_REGION, clientId: 'it-sqs-down', topicPrefix: 'it-down.' });
    sandbox.onCleanup(() => transport.close());
    expect(transport.description).toBe(`SQS at http://127.0.0.1:1 (${SQS_REGION})`);
    const started = Date.now();
    await expect(transport.publisher().send([wire(orderPlaced())])).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(transport.publisher().connect()).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(await transport.reachable()).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
