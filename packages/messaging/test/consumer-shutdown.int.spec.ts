import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@orderflow/contracts';
import { EventConsumer, KafkaPublisher, RetriableError, type DeliveryInfo } from '../src';
import { KafkaSandbox, deferred, oneByOne, orderConfirmed, orderPlaced, settle, waitFor, wire } from './support';

let sandbox: KafkaSandbox;
let publisher: KafkaPublisher;
let deadLetters: KafkaPublisher;

beforeEach(async () => {
  sandbox = new KafkaSandbox('it-messaging-shutdown');
  await sandbox.createTopics(['orders.events']);
  publisher = new KafkaPublisher(sandbox.kafka, sandbox.prefix);
  deadLetters = new KafkaPublisher(sandbox.kafka, sandbox.prefix);
  sandbox.onCleanup(() => publisher.disconnect());
  sandbox.onCleanup(() => deadLetters.disconnect());
  sandbox.trackGroup(`${sandbox.prefix}shipping`);
});

afterEach(async () => {
  await sandbox.cleanup();
});

/** A member of group `<prefix>shipping`; several of them take over from each other. */
function member(handle: Parameters<typeof oneByOne>[0]): EventConsumer {
  const consumer = new EventConsumer(sandbox.kafka, {
    groupId: 'shipping',
    topics: ['orders.events'],
    topicPrefix: sandbox.prefix,
    handles: () => true,
    handleBatch: oneByOne(handle),
    deadLetters,
    initialBackoffMs: 20,
    maxBackoffMs: 100,
  });
  sandbox.onCleanup(() => consumer.stop());
  return consumer;
}

const committed = async (partition: number): Promise<number> =>
  (await sandbox.committedOffsets(`${sandbox.prefix}shipping`, `${sandbox.prefix}orders.events`)).get(partition) ?? -1;

describe('EventConsumer.stop', () => {
  it('leaves an event whose handler is still retrying uncommitted, so the next member receives it again', async () => {
    const placed = orderPlaced();
    let attempts = 0;
    let partition = -1;
    const first = member(async (_event, delivery) => {
      attempts++;
      partition = delivery.partition;
      throw new RetriableError('database is down');
    });
    await publisher.send([wire(placed)]);
    await first.start();
    await waitFor(() => attempts >= 3, { what: 'a few retries' });

    await first.stop();

    const attemptsAtStop = attempts;
    expect(await committed(partition)).toBe(-1);
    const received: AnyEvent[] = [];
    const successor = member(async (event) => {
      received.push(event);
    });
    await successor.start();
    await waitFor(() => received.length === 1, { timeoutMs: 30_000, what: 'the redelivered event' });
    expect(received).toEqual([placed]);
    await waitFor(async () => (await committed(partition)) === 1, { what: 'the successor to commit' });
    expect(attempts).toBe(attemptsAtStop);
  });

  // stop() promises to leave "after the messages in flight finished and their offsets
  // were committed"; a graceful shutdown must not make the successor redo finished work.
  it('commits the offset of a handler that finishes while the consumer is stopping', async () => {
    const orderId = `order-${randomUUID()}`;
    const inFlight = orderPlaced(orderId);
    const later = orderConfirmed(orderId);
    const gate = deferred();
    let delivery: DeliveryInfo | undefined;
    let finished = false;
    const first = member(async (_event, d) => {
      delivery = d;
      await gate.promise;
      finished = true;
    });
    sandbox.onCleanup(async () => gate.resolve());
    await publisher.send([wire(inFlight)]);
    await first.start();
    await waitFor(() => delivery !== undefined, { what: 'the handler to start' });

    const stopping = first.stop();
    await settle(100);
    gate.resolve();
    await stopping;

    expect(finished).toBe(true);
    const committedAfterStop = await committed(delivery!.partition);

    // What the successor sees first on that partition shows whether the finished event is redone.
    await publisher.send([wire(later)]);
    const received: AnyEvent[] = [];
    const successor = member(async (event) => {
      received.push(event);
    });
    await successor.start();
    await waitFor(() => received.some((e) => e.id === later.id), { timeoutMs: 30_000, what: 'the later event' });
    expect({ committedAfterStop, successorReceived: received.map((e) => e.id) }).toEqual({
      committedAfterStop: 1,
      successorReceived: [later.id],
    });
  });
});
