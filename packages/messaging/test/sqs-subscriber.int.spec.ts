import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AnyEvent } from '@orderflow/contracts';
import { BatchFailure, DeadLetterHeaders, RetriableError, type ProcessOutcome, type ReceivedEvent, type SqsTransport, type Subscriber, type Transport } from '../src';
import { SQS_ENDPOINT, SqsSandbox } from './sqs-support';
import { deferred, oneByOne, orderConfirmed, orderPlaced, settle, waitFor, wire } from './support';

const VISIBILITY_TIMEOUT_SECONDS = 2;

let sandbox: SqsSandbox;

beforeEach(async () => {
  sandbox = new SqsSandbox({ visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS });
  await sandbox.transport.setUp();
});

afterEach(async () => {
  await sandbox.cleanup();
});

type SubscriberOptions = Parameters<Transport['subscriber']>[0];

/** A started subscriber of `orders.events` in `group` (default payment), stopped at cleanup. */
async function subscribe(options: Partial<SubscriberOptions> & { transport?: SqsTransport; handle?: Parameters<typeof oneByOne>[0] }): Promise<Subscriber> {
  const { transport = sandbox.transport, handle, ...rest } = options;
  const subscriber = sandbox.track(
    transport.subscriber({
      groupId: 'payment',
      topics: ['orders.events'],
      handles: () => true,
      handleBatch: handle ? oneByOne(handle) : async () => undefined,
      initialBackoffMs: 20,
      maxBackoffMs: 200,
      maxWaitTimeInMs: 1_000,
      ...rest,
    }),
  );
  await subscriber.start();
  return subscriber;
}

const publish = (events: AnyEvent[]) => sandbox.transport.publisher().send(events.map((e) => wire(e)));
const paymentQueue = () => sandbox.groupQueue('payment');

describe('SqsSubscriber', () => {
  it('delivers events with their headers, queue topic and sequence number, and deletes them once handled', async () => {
    const event = orderPlaced();
    const batches: ReceivedEvent[][] = [];
    await publish([event]);
    await subscribe({ handleBatch: async (batch) => void batches.push([...batch]) });
    await waitFor(() => batches.length > 0, { what: 'the event' });
    expect(batches[0]).toEqual([{ event, delivery: { topic: `${sandbox.prefix}orders.events`, partition: 0, offset: expect.stringMatching(/^\d+$/) } }]);
    await waitFor(async () => (await sandbox.depth(paymentQueue())).inFlight === 0, { what: 'the message to be deleted' });
    expect(await sandbox.depth(paymentQueue())).toEqual({ waiting: 0, inFlight: 0 });
  });

  it('hands several messages of one receive (and of receives arriving together) to one handleBatch', async () => {
    const events = Array.from({ length: 20 }, () => orderPlaced());
    await publish(events);
    const batches: number[] = [];
    const handled = new Set<string>();
    await subscribe({
      handleBatch: async (batch) => {
        batches.push(batch.length);
        for (const { event } of batch) handled.add(event.id);
      },
    });
    await waitFor(() => handled.size === events.length, { what: 'every event' });
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(events.length);
  });

  it("keeps each key's order across many keys with two instances of the group", async () => {
    const keys = Array.from({ length: 30 }, () => `order-${randomUUID()}`);
    const sent = keys.flatMap((key) => [orderPlaced(key), orderConfirmed(key), orderConfirmed(key), orderConfirmed(key)]);
    const handled: AnyEvent[] = [];
    const handle = async (e: AnyEvent) => {
      // Uneven handling times shuffle the groups between instances.
      if (Math.random() < 0.1) await settle(5);
      handled.push(e);
    };
    await subscribe({ handle });
    await subscribe({ handle, transport: sandbox.sibling() });
    expect((await sandbox.transport.publisher().sendByPartition(sent.map((e) => wire(e)))).failed).toEqual([]);
    await waitFor(() => new Set(handled.map((e) => e.id)).size === sent.length, { timeoutMs: 30_000, what: 'every event' });
    for (const key of keys) {
      expect([...new Set(handled.filter((e) => e.subject === key).map((e) => e.id))]).toEqual(sent.filter((e) => e.subject === key).map((e) => e.id));
    }
  });

  it('retries a retriable failure until it succeeds, parking nothing', async () => {
    const event = orderPlaced();
    let failures = 3;
    const handled: string[] = [];
    const outcomes: ProcessOutcome[] = [];
    await subscribe({
      onOutcome: (o) => outcomes.push(o),
      handle: async (e) => {
        if (failures-- > 0) throw new RetriableError('database is down');
        handled.push(e.id);
      },
    });
    await publish([event]);
    await waitFor(() => handled.length === 1, { what: 'the event after its retries' });
    await waitFor(async () => (await sandbox.depth(paymentQueue())).inFlight === 0, { what: 'the delete' });
    expect(outcomes).toEqual(['processed']);
    expect(await sandbox.transport.listDeadLetters({ topics: ['orders.events'] })).toEqual([]);
  });

  it('cuts a poison event out of its batch, parks it with the error and the group, and handles the rest', async () => {
    const orderId = `order-${randomUUID()}`;
    const events = [orderPlaced(orderId), orderConfirmed(orderId), orderConfirmed(orderId), orderConfirmed(orderId)];
    const poison = events[2]!;
    const applied: string[] = [];
    await publish(events);
    await subscribe({
      maxAttempts: 2,
      // Like a transaction: a batch counts only if all of it succeeded.
      handleBatch: async (batch) => {
        const index = batch.findIndex(({ event }) => event.id === poison.id);
        if (index >= 0) throw new BatchFailure(index, new Error('no such customer'));
        applied.push(...batch.map(({ event }) => event.id));
      },
    });
    await waitFor(() => applied.length === 3, { what: 'the events around the poison one' });
    expect(applied).toEqual(events.filter((e) => e !== poison).map((e) => e.id));
    const letters = await sandbox.transport.listDeadLetters({ topics: ['orders.events'] });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ key: orderId, value: wire(poison).value, group: 'payment', error: 'no such customer', type: 'OrderConfirmed', partition: 0 });
    expect(letters[0]!.headers).toMatchObject({ ce_id: poison.id, [DeadLetterHeaders.originalTopic]: `${sandbox.prefix}orders.events`, [DeadLetterHeaders.attempts]: '2' });
    await waitFor(async () => (await sandbox.depth(paymentQueue())).inFlight === 0, { what: 'the deletes' });
    expect(await sandbox.depth(paymentQueue())).toEqual({ waiting: 0, inFlight: 0 });
  });

  it('parks a message that cannot be decoded, and skips an unhandled type from its attribute without decoding it', async () => {
    const outcomes: [ProcessOutcome, string][] = [];
    const handled: string[] = [];
    const later = orderPlaced();
    await sandbox.sendRaw(paymentQueue(), 'not even json', { ce_type: 'OrderPlaced', headers: '{broken' }, 'order-raw-1');
    await sandbox.sendRaw(paymentQueue(), 'not json either', { ce_type: 'OrderConfirmed', headers: '{}' }, 'order-raw-2');
    await publish([later]);
    await subscribe({
      handles: (type) => type !== 'OrderConfirmed',
      onOutcome: (o, type) => outcomes.push([o, type]),
      handle: async (e) => void handled.push(e.id),
    });
    await waitFor(() => handled.includes(later.id) && outcomes.length === 3, { what: 'all three messages' });
    expect(outcomes).toEqual(expect.arrayContaining([['dead-lettered', 'OrderPlaced'], ['ignored', 'OrderConfirmed'], ['processed', 'OrderPlaced']]));
    const letters = await sandbox.transport.listDeadLetters({ topics: ['orders.events'] });
    expect(letters.map((l) => [l.key, l.value, l.group])).toEqual([['order-raw-1', 'not even json', 'payment']]);
    expect(letters[0]!.error).toBeTruthy();
    await waitFor(async () => (await sandbox.depth(paymentQueue())).inFlight === 0, { what: 'the deletes' });
  });

  it('deletes nothing before handleBatch resolved, keeping the messages hidden past the visibility timeout meanwhile', async () => {
    const event = orderPlaced();
    const gate = deferred();
    sandbox.onCleanup(async () => gate.resolve());
    const calls: string[] = [];
    await subscribe({
      handle: async (e) => {
        calls.push(`first:${e.id}`);
        await gate.promise;
      },
    });
    await subscribe({ transport: sandbox.sibling(), handle: async (e) => void calls.push(`second:${e.id}`) });
    await publish([event]);
    await waitFor(() => calls.length === 1, { what: 'the handler to start' });
    await settle(VISIBILITY_TIMEOUT_SECONDS * 2_000);
    expect(await sandbox.depth(paymentQueue())).toEqual({ waiting: 0, inFlight: 1 });
    gate.resolve();
    await waitFor(async () => (await sandbox.depth(paymentQueue())).inFlight === 0, { what: 'the delete' });
    expect(calls).toEqual([`first:${event.id}`]);
  });

  it('extends the visibility while a batch is retried for longer than the timeout, so no other instance gets it', async () => {
    const event = orderPlaced();
    const calls: string[] = [];
    const until = Date.now() + VISIBILITY_TIMEOUT_SECONDS * 2_500;
    await subscribe({
      handle: async (e) => {
        calls.push(`first:${e.id}`);
        if (Date.now() < until) throw new RetriableError('database is down');
      },
    });
    await subscribe({ transport: sandbox.sibling(), handle: async (e) => void calls.push(`second:${e.id}`) });
    await publish([event]);
    await waitFor(async () => Date.now() > until && (await sandbox.depth(paymentQueue())).inFlight === 0, { timeoutMs: 30_000, what: 'success and delete' });
    expect(calls.length).toBeGreaterThan(3);
    expect(new Set(calls)).toEqual(new Set([`first:${event.id}`]));
  });

  it('leaves an event it was still retrying when stopped to the next instance, and the events it finished to no one', async () => {
    const orderId = `order-${randomUUID()}`;
    const [done, stuck] = [orderPlaced(orderId), orderConfirmed(orderId)];
    const firstSaw: string[] = [];
    const first = await subscribe({
      handle: async (e) => {
        firstSaw.push(e.id);
        if (e.id === stuck.id) throw new RetriableError('still failing');
      },
    });
    await publish([done]);
    await waitFor(() => firstSaw.includes(done.id), { what: 'the first event' });
    await publish([stuck]);
    await waitFor(() => firstSaw.filter((id) => id === stuck.id).length > 1, { what: 'a retry' });
    await sandbox.untrack(first);
    // Given back at once, not after the visibility timeout.
    expect(await sandbox.depth(paymentQueue())).toEqual({ waiting: 1, inFlight: 0 });

    const next: string[] = [];
    await subscribe({ transport: sandbox.sibling(), handle: async (e) => void next.push(e.id) });
    await waitFor(() => next.length > 0, { timeoutMs: VISIBILITY_TIMEOUT_SECONDS * 1_000 + 10_000, what: 'the redelivery' });
    expect(next).toEqual([stuck.id]);
  });

  it('reports each group’s messages waiting and in flight as its lag', async () => {
    await publish([orderPlaced(), orderPlaced(), orderPlaced()]);
    const lags = await sandbox.transport.lag(['orders.events', 'payments.events']);
    expect(lags.sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic))).toEqual([
      { group: 'inventory', topic: 'orders.events', partition: 0, lag: 3 },
      { group: 'orders', topic: 'payments.events', partition: 0, lag: 0 },
      { group: 'payment', topic: 'orders.events', partition: 0, lag: 3 },
      { group: 'shipping', topic: 'orders.events', partition: 0, lag: 3 },
    ]);
  });

  it('keeps receiving after the endpoint was unreachable for a while', async () => {
    const proxy = await tcpProxy(new URL(SQS_ENDPOINT));
    sandbox.onCleanup(() => proxy.close());
    const warnings: string[] = [];
    const throughProxy = sandbox.sibling({ endpoint: proxy.endpoint, logger: { log: () => undefined, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) } });
    const handled: string[] = [];
    await subscribe({ transport: throughProxy, handle: async (e) => void handled.push(e.id) });
    proxy.cut();
    await waitFor(() => warnings.some((w) => w.includes('receiving from')), { what: 'a failed receive to be reported' });
    const event = orderPlaced();
    await publish([event]);
    await settle(500);
    expect(handled).toEqual([]);
    proxy.restore();
    await waitFor(() => handled.includes(event.id), { timeoutMs: 20_000, what: 'the event once the endpoint is back' });
  });

  it('lists dead letters without taking them, and redrives only those matching the filter', async () => {
    const [a, b] = [orderPlaced(), orderPlaced()];
    await subscribe({
      maxAttempts: 1,
      handle: async (e) => {
        throw new Error(e.id === a.id ? 'card expired' : 'bug');
      },
    });
    await publish([a, b]);
    await waitFor(async () => (await sandbox.transport.listDeadLetters({ topics: ['orders.events'] })).length === 2, { intervalMs: 300, what: 'two letters' });
    const first = await sandbox.transport.listDeadLetters({ topics: ['orders.events'] });
    expect(await sandbox.transport.listDeadLetters({ topics: ['orders.events'] })).toEqual(first);
    expect((await sandbox.transport.listDeadLetters({ topics: ['orders.events'], error: 'CARD' })).map((l) => l.headers['ce_id'])).toEqual([a.id]);

    const dry = await sandbox.transport.redriveDeadLetters({ topic: 'orders.events', error: 'card', dryRun: true });
    expect(dry.redriven.map((l) => l.headers['ce_id'])).toEqual([a.id]);
    expect(await sandbox.transport.listDeadLetters({ topics: ['orders.events'] })).toEqual(first);

    const result = await sandbox.transport.redriveDeadLetters({ topic: 'orders.events', error: 'card' });
    expect(result.redriven.map((l) => l.headers['ce_id'])).toEqual([a.id]);
    // Payment's handler still fails: the redriven event is parked again, next to the letter marked redriven.
    const letterStates = async () => (await sandbox.transport.listDeadLetters({ topics: ['orders.events'] })).map((l) => `${l.headers['ce_id']}:${l.redriven}`).sort();
    const expected = [`${a.id}:false`, `${a.id}:true`, `${b.id}:false`].sort();
    await waitFor(async () => JSON.stringify(await letterStates()) === JSON.stringify(expected), { intervalMs: 300, what: 'the redriven event parked again' });
    const again = await sandbox.transport.redriveDeadLetters({ topic: 'orders.events', error: 'card', dryRun: true });
    expect(again.alreadyRedriven.map((l) => l.headers['ce_id'])).toEqual([a.id]);
    expect(again.redriven.map((l) => l.headers['ce_id'])).toEqual([a.id]);
  });
});

/** A TCP relay to ElasticMQ whose connections can be cut and refused, and then allowed again. */
async function tcpProxy(target: URL): Promise<{ endpoint: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      open = true;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
