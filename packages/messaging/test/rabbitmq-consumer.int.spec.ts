import { randomUUID } from 'node:crypto';
import { BatchFailure, RetriableError, type EventConsumerOptions, type ProcessOutcome, type ReceivedEvent, type Subscriber } from '../src';
import { partitionOfKey } from '../src/rabbitmq/topology';
import { RabbitSandbox, killConnections } from './rabbitmq-support';
import { deferred, oneByOne, orderConfirmed, orderPlaced, settle, waitFor, wire } from './support';

let sandbox: RabbitSandbox;

beforeEach(() => {
  sandbox = new RabbitSandbox();
});

afterEach(async () => {
  await sandbox.cleanup();
});

type Handle = Parameters<typeof oneByOne>[0];
type SubscriberOptions = Partial<Omit<EventConsumerOptions, 'deadLetters' | 'topicPrefix' | 'onRequest'>> & { handle?: Handle; clientId?: string };

/** A set-up topology, a publisher, and a way to make subscribers of group `payment` on `orders.events`. */
async function setUp() {
  const transport = sandbox.transport();
  await transport.setUp();
  const publisher = transport.publisher();
  const topic = `${sandbox.prefix}orders.events`;
  const subscriber = ({ handle, clientId, ...options }: SubscriberOptions = {}) => {
    const outcomes: ProcessOutcome[] = [];
    const owner = clientId ? sandbox.transport({ clientId }) : transport;
    const subscriber: Subscriber = owner.subscriber({
      groupId: 'payment',
      topics: ['orders.events'],
      handles: () => true,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
      ...(process.env['DEBUG_RABBIT'] ? { logger: { log: (m: string) => console.log(m), warn: (m: string) => console.log(m), error: (m: string) => console.log(m) } } : {}),
      onOutcome: (outcome) => outcomes.push(outcome),
      handleBatch: handle ? oneByOne(handle) : async () => undefined,
      ...options,
    });
    sandbox.onCleanup(() => subscriber.stop());
    return { subscriber, outcomes };
  };
  return { transport, publisher, topic, subscriber };
}

describe('RabbitMQ subscriber', () => {
  it('delivers a published event with its headers, key and partition', async () => {
    const { publisher, topic, subscriber } = await setUp();
    const handled: ReceivedEvent[] = [];
    const { subscriber: consumer } = subscriber({ handle: async (event, delivery) => void handled.push({ event, delivery }) });
    await consumer.start();
    const event = { ...orderPlaced(), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    await publisher.send([wire(event)]);

    await waitFor(() => handled.length === 1, { what: 'the event' });
    expect(handled[0]!.event).toEqual(event);
    expect(handled[0]!.delivery).toMatchObject({ topic, partition: partitionOfKey(event.subject, sandbox.partitions) });
  });

  it('hands events delivered together to the handler as one batch, and acknowledges them only after it resolved', async () => {
    const { publisher, subscriber } = await setUp();
    const orderId = `order-${randomUUID()}`;
    const events = [orderPlaced(orderId), ...Array.from({ length: 9 }, () => orderConfirmed(orderId))];
    await publisher.send(events.map((e) => wire(e)));
    const gate = deferred();
    const batches: ReceivedEvent[][] = [];
    const name = `it-rabbitmq-batch-${sandbox.prefix}`;
    const { subscriber: consumer } = subscriber({
      clientId: name,
      handleBatch: async (batch) => {
        batches.push([...batch]);
        await gate.promise;
      },
    });
    sandbox.onCleanup(async () => gate.resolve());
    await consumer.start();
    await waitFor(() => batches.length === 1, { what: 'the batch' });
    // RabbitMQ may spread a burst over several socket reads: the first batch holds at least some of it, in order.
    const first = batches[0]!.map((h) => h.event.id);
    expect(first.length).toBeGreaterThan(1);
    expect(first).toEqual(events.slice(0, first.length).map((e) => e.id));

    // The connection dies while the handler holds the batch: nothing of it was acknowledged,
    // so all of it comes again once the subscriber reconnected.
    expect(await killConnections(name)).toBeGreaterThan(0);
    gate.resolve();
    const redelivered = () => batches.slice(1).flatMap((b) => b.map((h) => h.event.id));
    await waitFor(() => redelivered().length >= events.length, { what: 'the redelivered batch' });
    expect(redelivered()).toEqual(events.map((e) => e.id));
  });

  it('keeps each key in order across two instances of a group, one active per partition, through a crash of the active one', async () => {
    const { publisher, subscriber } = await setUp();
    const keys = Array.from({ length: 12 }, () => `order-${randomUUID()}`);
    const perKey = 15;
    const sent = new Map<string, string[]>(keys.map((k) => [k, []]));
    const seen = new Map<string, { instance: string; id: string }[]>(keys.map((k) => [k, []]));
    let crashed = false;
    const instance = (name: string) =>
      subscriber({
        clientId: `it-rabbitmq-${name}-${sandbox.prefix}`,
        maxBatchSize: 5,
        handle: async (event) => {
          seen.get(event.subject)!.push({ instance: name, id: event.id });
          await settle(2);
        },
      }).subscriber;
    const a = instance('a');
    const b = instance('b');
    await a.start();
    await b.start();

    const publishRound = async (round: number) => {
      const batch = keys.map((key) => (round === 0 ? orderPlaced(key) : orderConfirmed(key)));
      for (const e of batch) sent.get(e.subject)!.push(e.id);
      await publisher.send(batch.map((e) => wire(e)));
    };
    for (let round = 0; round < perKey; round++) {
      if (round === 7) {
        const before = [...seen.values()].flat();
        // Registered first, `a` is the active consumer of every partition until a balancing period (3 s by default) passes.
        expect(before.length).toBeGreaterThan(0);
        expect(before.every((s) => s.instance === 'a')).toBe(true);
        expect(await killConnections(`it-rabbitmq-a-${sandbox.prefix}`)).toBeGreaterThan(0);
        crashed = true;
      }
      await publishRound(round);
      await settle(20);
    }
    expect(crashed).toBe(true);
    const total = keys.length * perKey;
    const handledOnce = () => new Set([...seen.values()].flat().map((s) => s.id)).size;
    await waitFor(() => handledOnce() === total, { timeoutMs: 30_000, what: `${total} distinct events` });

    expect([...seen.values()].flat().some((s) => s.instance === 'b')).toBe(true);
    for (const key of keys) {
      // Redelivery after the crash may repeat events (the inbox absorbs them), never reorder them.
      const firstTimes = [...new Set(seen.get(key)!.map((s) => s.id))];
      expect(firstTimes).toEqual(sent.get(key));
      const ids = seen.get(key)!.map((s) => sent.get(key)!.indexOf(s.id));
      for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[i - 1]!) expect(seen.get(key)![i]!.instance).toBe('b');
    }
  });

  it('retries a failing handler with backoff until it succeeds', async () => {
    const { publisher, subscriber } = await setUp();
    let attempts = 0;
    const { subscriber: consumer, outcomes } = subscriber({
      handle: async () => {
        if (++attempts < 3) throw new RetriableError('database unavailable');
      },
    });
    await consumer.start();
    await publisher.send([wire(orderPlaced())]);
    await waitFor(() => outcomes.includes('processed'), { what: 'the event to be processed' });
    expect(attempts).toBe(3);
    expect(outcomes).toEqual(['processed']);
  });

  it('cuts a poison event out of its batch and parks it in <topic>.dlq with the error and the group', async () => {
    const { publisher, subscriber, transport, topic } = await setUp();
    const orderId = `order-${randomUUID()}`;
    const events = [orderPlaced(orderId), orderConfirmed(orderId), orderConfirmed(orderId)];
    const poison = events[1]!;
    const handled: string[] = [];
    await publisher.send(events.map((e) => wire(e)));
    const { subscriber: consumer, outcomes } = subscriber({
      handleBatch: async (batch) => {
        const index = batch.findIndex((h) => h.event.id === poison.id);
        if (index >= 0) throw new BatchFailure(index, new Error('card vault rejects this order'));
        handled.push(...batch.map((h) => h.event.id));
      },
    });
    await consumer.start();
    await waitFor(() => handled.length === 2, { what: 'the other two events' });
    expect(handled).toEqual([events[0]!.id, events[2]!.id]);

    await waitFor(async () => (await transport.listDeadLetters({ topics: ['orders.events'] })).length === 1, { what: 'the dead letter' });
    const [letter] = await transport.listDeadLetters({ topics: ['orders.events'] });
    expect(letter).toMatchObject({ topic: 'orders.events', key: orderId, group: 'payment', type: 'OrderConfirmed', error: 'card vault rejects this order' });
    expect(letter!.headers).toMatchObject({ 'ce_id': poison.id, 'dlq-original-topic': topic, 'dlq-consumer-group': 'payment', 'dlq-attempts': '3' });
    expect(outcomes.filter((o) => o === 'dead-lettered')).toHaveLength(1);
  });

  it('parks a message that cannot be decoded, and skips a type it does not handle without decoding it', async () => {
    const { publisher, subscriber, transport } = await setUp();
    const broken = wire(orderPlaced());
    const unhandled = wire(orderConfirmed(broken.key));
    const { subscriber: consumer, outcomes } = subscriber({ handles: (type) => type === 'OrderPlaced' });
    await consumer.start();
    await publisher.send([
      { ...broken, value: '{not json' },
      { ...unhandled, value: 'not decoded, so never refused' },
    ]);
    await waitFor(() => outcomes.length === 2, { what: 'both messages' });
    expect(outcomes.sort()).toEqual(['dead-lettered', 'ignored']);
    const letters = await transport.listDeadLetters({ topics: ['orders.events'] });
    expect(letters.map((l) => l.type)).toEqual(['OrderPlaced']);
    expect(letters[0]!.error).toMatch(/not JSON/);
  });

  it('leaves a batch that is still being retried at stop unacknowledged, so the next subscriber receives it', async () => {
    const { publisher, subscriber } = await setUp();
    const event = orderPlaced();
    let failures = 0;
    const first = subscriber({
      handle: async () => {
        failures++;
        throw new RetriableError('database unavailable');
      },
    }).subscriber;
    await first.start();
    await publisher.send([wire(event)]);
    await waitFor(() => failures >= 2, { what: 'a retry' });
    await first.stop();

    const handled: string[] = [];
    const second = subscriber({ handle: async (e) => void handled.push(e.id) }).subscriber;
    await second.start();
    await waitFor(() => handled.length === 1, { what: 'the redelivery' });
    expect(handled).toEqual([event.id]);
  });

  it('handles an event redriven from the dead-letter queue only in the group that parked it', async () => {
    const { publisher, subscriber, transport } = await setUp();
    const event = orderPlaced();
    let broken = true;
    const payment: string[] = [];
    const { subscriber: consumer } = subscriber({
      handle: async (e) => {
        if (broken) throw new Error('payment provider misconfigured');
        payment.push(e.id);
      },
    });
    const inventory: string[] = [];
    const other = transport.subscriber({ groupId: 'inventory', topics: ['orders.events'], handles: () => true, handleBatch: oneByOne(async (e) => void inventory.push(e.id)) });
    sandbox.onCleanup(() => other.stop());
    await consumer.start();
    await other.start();
    await publisher.send([wire(event)]);
    await waitFor(async () => (await transport.listDeadLetters({ topics: ['orders.events'] })).length === 1, { what: 'the dead letter' });
    expect(inventory).toEqual([event.id]);

    const listed = await transport.listDeadLetters({ topics: ['orders.events'] });
    expect(await transport.listDeadLetters({ topics: ['orders.events'] })).toEqual(listed);
    const dry = await transport.redriveDeadLetters({ topic: 'orders.events', dryRun: true });
    expect(dry.redriven.map((l) => l.offset)).toEqual(listed.map((l) => l.offset));
    expect(await transport.listDeadLetters({ topics: ['orders.events'] })).toHaveLength(1);

    broken = false;
    const result = await transport.redriveDeadLetters({ topic: 'orders.events', group: 'payment' });
    expect(result).toEqual({ redriven: listed, alreadyRedriven: [], withoutGroup: [] });
    await waitFor(() => payment.length === 1, { what: 'the redriven event' });
    expect(payment).toEqual([event.id]);
    const kept = await transport.listDeadLetters({ topics: ['orders.events'] });
    expect(kept.map((l) => [l.headers['ce_id'], l.redriven])).toEqual([[event.id, true]]);
    expect((await transport.redriveDeadLetters({ topic: 'orders.events' })).alreadyRedriven).toEqual(kept);
    await settle(300);
    expect(inventory).toEqual([event.id]);
  });
});
