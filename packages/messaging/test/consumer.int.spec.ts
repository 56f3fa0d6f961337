import { randomUUID } from 'node:crypto';
import { encodeEvent, type AnyEvent } from '@orderflow/contracts';
import { BatchFailure, EventConsumer, KafkaPublisher, RetriableError, type DeliveryInfo, type EventConsumerOptions, type ProcessOutcome } from '../src';
import { KafkaSandbox, deferred, oneByOne, orderConfirmed, orderPlaced, settle, waitFor, wire } from './support';

let sandbox: KafkaSandbox;

beforeEach(() => {
  sandbox = new KafkaSandbox('it-messaging-consumer');
});

afterEach(async () => {
  await sandbox.cleanup();
});

interface Handled {
  event: AnyEvent;
  delivery: DeliveryInfo;
}

/** Topics, a publisher, and a consumer of `<prefix>orders.events` in group `<prefix>payment`, not yet started. */
type Handle = Parameters<typeof oneByOne>[0];

async function consumerOf({ handle, ...options }: Partial<EventConsumerOptions> & { handle?: Handle }) {
  await sandbox.createTopics(['orders.events']);
  const publisher = new KafkaPublisher(sandbox.kafka, sandbox.prefix);
  const deadLetters = new KafkaPublisher(sandbox.kafka, sandbox.prefix);
  sandbox.onCleanup(() => publisher.disconnect());
  sandbox.onCleanup(() => deadLetters.disconnect());
  const outcomes: ProcessOutcome[] = [];
  const consumer = new EventConsumer(sandbox.kafka, {
    groupId: 'payment',
    topics: ['orders.events'],
    topicPrefix: sandbox.prefix,
    handles: () => true,
    deadLetters,
    initialBackoffMs: 20,
    maxBackoffMs: 100,
    onOutcome: (outcome) => outcomes.push(outcome),
    handleBatch: handle ? oneByOne(handle) : async () => undefined,
    ...options,
  });
  const group = `${sandbox.prefix}payment`;
  sandbox.trackGroup(group);
  sandbox.onCleanup(() => consumer.stop());
  const topic = `${sandbox.prefix}orders.events`;
  return {
    publisher,
    consumer,
    outcomes,
    topic,
    dlq: `${topic}.dlq`,
    /** Committed offset of `partition`, -1 when none. */
    committed: async (partition: number) => (await sandbox.committedOffsets(group, topic)).get(partition) ?? -1,
  };
}

describe('EventConsumer', () => {
  it("hands a fetch's events to the handler as one batch and commits their offsets once, only after it resolved", async () => {
    const orderId = `order-${randomUUID()}`;
    const events = [orderPlaced(orderId), orderConfirmed(orderId), orderConfirmed(orderId)];
    const gate = deferred();
    const batches: Handled[][] = [];
    const requests: string[] = [];
    const { publisher, consumer, committed, topic, outcomes } = await consumerOf({
      onRequest: (api) => requests.push(api),
      handleBatch: async (batch) => {
        batches.push([...batch]);
        await gate.promise;
      },
    });
    // Cleanup runs last-registered first: a failed assertion must not leave stop() waiting on the gate.
    sandbox.onCleanup(async () => gate.resolve());
    await publisher.send(events.map((e) => wire(e)));

    await consumer.start();
    await waitFor(() => batches.length === 1, { what: 'the batch to reach the handler' });

    const partition = batches[0]![0]!.delivery.partition;
    expect(batches[0]).toEqual(events.map((event, i) => ({ event, delivery: { topic, partition, offset: String(i) } })));
    // The handler is still running: nothing may be committed.
    await settle(300);
    expect(await committed(partition)).toBe(-1);
    expect(requests).not.toContain('OffsetCommit');

    gate.resolve();
    await waitFor(async () => (await committed(partition)) === 3, { what: 'the offsets to be committed' });
    expect(batches).toHaveLength(1);
    expect(requests.filter((api) => api === 'OffsetCommit')).toHaveLength(1);
    expect(outcomes).toEqual(['processed', 'processed', 'processed']);
  });

  it('commits the offsets of batches handled within offsetCommitIntervalMs together, the last of them included', async () => {
    const orderId = `order-${randomUUID()}`;
    const requests: string[] = [];
    const handled: Handled[] = [];
    const { publisher, consumer, committed } = await consumerOf({
      offsetCommitIntervalMs: 1_500,
      onRequest: (api) => requests.push(api),
      handle: async (event, delivery) => {
        handled.push({ event, delivery });
      },
    });
    await consumer.start();
    // One event at a time, each waiting for the last to be handled: one fetch, one batch each.
    const events = [orderPlaced(orderId), ...Array.from({ length: 4 }, () => orderConfirmed(orderId))];
    for (const [i, event] of events.entries()) {
      await publisher.send([wire(event)]);
      await waitFor(() => handled.length === i + 1, { what: `event ${i} to be handled` });
    }
    const partition = handled[0]!.delivery.partition;

    await waitFor(async () => (await committed(partition)) === events.length, { timeoutMs: 10_000, what: 'the last offset to be committed' });
    // The first batch is committed at once, the next four within the interval after it in one request.
    expect(requests.filter((api) => api === 'OffsetCommit')).toHaveLength(2);
  });

  it('starts a unit of work no sooner than minBatchIntervalMs after the last: what arrives meanwhile comes together', async () => {
    const orderId = `order-${randomUUID()}`;
    const batches: { at: number; ids: string[] }[] = [];
    const { publisher, consumer } = await consumerOf({
      minBatchIntervalMs: 1_000,
      handleBatch: async (batch) => {
        batches.push({ at: performance.now(), ids: batch.map(({ event }) => event.id) });
      },
    });
    await consumer.start();
    const first = orderPlaced(orderId);
    await publisher.send([wire(first)]);
    await waitFor(() => batches.length === 1, { what: 'the first batch' });
    // Four events sent one at a time right after it: handled together once the interval ran out.
    const next = Array.from({ length: 4 }, () => orderConfirmed(orderId));
    for (const event of next) await publisher.send([wire(event)]);
    await waitFor(() => batches.flatMap((b) => b.ids).length === 5, { timeoutMs: 10_000, what: 'the other four' });
    expect(batches.flatMap((b) => b.ids)).toEqual([first, ...next].map((e) => e.id));
    expect(batches.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < batches.length; i++) expect(batches[i]!.at - batches[i - 1]!.at).toBeGreaterThanOrEqual(990);
  });

  it('refuses a negative or fractional minBatchIntervalMs, and takes 0 (off)', async () => {
    const options = { groupId: 'g', topics: ['orders.events'], handles: () => true, handleBatch: async () => undefined, deadLetters: new KafkaPublisher(sandbox.kafka) };
    expect(() => new EventConsumer(sandbox.kafka, { ...options, minBatchIntervalMs: -1 })).toThrow('minBatchIntervalMs must be an integer >= 0');
    expect(() => new EventConsumer(sandbox.kafka, { ...options, minBatchIntervalMs: 2.5 })).toThrow('minBatchIntervalMs must be an integer >= 0');
    expect(() => new EventConsumer(sandbox.kafka, { ...options, minBatchIntervalMs: 0 })).not.toThrow();
  });

  it('gathers the partitions of one fetch into one batch, committed in one request; poison in it sends each partition its own way', async () => {
    // Keys spread over the three partitions.
    const events = Array.from({ length: 12 }, () => orderPlaced());
    const poison = events[5]!;
    const batches: Handled[][] = [];
    const applied: string[] = [];
    const requests: string[] = [];
    let poisoned = false;
    const { publisher, consumer, dlq } = await consumerOf({
      maxAttempts: 1,
      onRequest: (api) => requests.push(api),
      handleBatch: async (batch) => {
        batches.push([...batch]);
        const index = batch.findIndex(({ event }) => event.id === poison.id);
        if (poisoned && index >= 0) throw new BatchFailure(index, new Error('cannot be handled'));
        applied.push(...batch.map(({ event }) => event.id));
      },
    });
    await publisher.send(events.filter((e) => e !== poison).map((e) => wire(e)));

    await consumer.start();
    await waitFor(() => applied.length === 11, { what: 'the first events' });
    const partitions = new Set(batches.flat().map((h) => h.delivery.partition));
    expect(partitions.size).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(partitions.size + 1);
    expect(requests.filter((api) => api === 'OffsetCommit').length).toBeLessThanOrEqual(batches.length);

    poisoned = true;
    await publisher.send([wire(poison), wire(orderPlaced())]);
    await waitFor(async () => (await sandbox.topicSize(dlq)) === 1, { what: 'the poison event to be parked' });
    await waitFor(() => applied.length === 12, { what: 'the event after it' });
    expect(applied).not.toContain(poison.id);
  });

  it('with lanes, hands each partition number (modulo lanes) its own unit of work, the lanes side by side, and commits them all', async () => {
    // Keys spread over the three partitions; with two lanes, partitions 0 and 2 go together and 1 alone.
    const events = Array.from({ length: 12 }, () => orderPlaced());
    const batches: Handled[][] = [];
    let running = 0;
    let mostAtOnce = 0;
    const { publisher, consumer, committed } = await consumerOf({
      lanes: 2,
      handleBatch: async (batch) => {
        batches.push([...batch]);
        mostAtOnce = Math.max(mostAtOnce, ++running);
        // Long enough for the other lane's unit of work to start meanwhile.
        await settle(300);
        running--;
      },
    });
    await publisher.send(events.map((e) => wire(e)));
    const partitions = new Set<number>();
    await consumer.start();
    await waitFor(() => batches.flat().length === 12, { what: 'every event' });
    for (const batch of batches) {
      for (const { delivery } of batch) partitions.add(delivery.partition);
      expect(new Set(batch.map(({ delivery }) => delivery.partition % 2)).size).toBe(1);
    }
    expect(partitions.size).toBe(3);
    expect(mostAtOnce).toBe(2);
    expect(batches.flat().map(({ event }) => event.id).sort()).toEqual(events.map((e) => e.id).sort());
    // Each partition's committed offset is one past the last event handled from it.
    const ends = [0, 1, 2].map((p) => Math.max(...batches.flat().filter(({ delivery }) => delivery.partition === p).map(({ delivery }) => Number(delivery.offset))) + 1);
    await waitFor(
      async () => {
        for (const p of [0, 1, 2]) if ((await committed(p)) !== ends[p]) return false;
        return true;
      },
      { what: 'every lane committed' },
    );
  });

  it('refuses lanes below 1', async () => {
    const options = { groupId: 'g', topics: ['orders.events'], handles: () => true, handleBatch: async () => undefined, deadLetters: new KafkaPublisher(sandbox.kafka) };
    expect(() => new EventConsumer(sandbox.kafka, { ...options, lanes: 0 })).toThrow('lanes must be an integer >= 1 (got 0)');
    expect(() => new EventConsumer(sandbox.kafka, { ...options, lanes: 1.5 })).toThrow('lanes must be an integer >= 1');
  });

  it('cuts a batch at a poison event: what precedes it is committed, it is dead-lettered alone, and the rest is handled', async () => {
    const events = Array.from({ length: 6 }, () => orderPlaced('order-same-partition'));
    const poison = events[3]!;
    const applied: string[] = [];
    const attempts: number[] = [];
    const { publisher, consumer, committed, dlq, outcomes } = await consumerOf({
      maxAttempts: 2,
      // Like a database transaction: a batch's effects count only if all of it succeeded.
      handleBatch: async (batch) => {
        attempts.push(batch.length);
        const index = batch.findIndex(({ event }) => event.id === poison.id);
        if (index >= 0) throw new BatchFailure(index, new Error('cannot be handled'));
        applied.push(...batch.map(({ event }) => event.id));
      },
    });
    await publisher.send(events.map((e) => wire(e)));

    await consumer.start();
    await waitFor(async () => (await sandbox.topicSize(dlq)) === 1, { what: 'the poison event to be parked' });
    await waitFor(() => applied.length === 5, { what: 'the other events' });
    // One key, so one partition: its committed offset reaches the end.
    await waitFor(async () => Math.max(...(await Promise.all([0, 1, 2].map(committed)))) === 6, { what: 'every offset to be committed' });

    expect(applied).toEqual(events.filter((e) => e !== poison).map((e) => e.id));
    // The whole batch, then the three before the poison event, then it alone (its second attempt), then the two after it.
    expect(attempts).toEqual([6, 3, 1, 2]);
    expect(outcomes.filter((o) => o === 'dead-lettered')).toHaveLength(1);
  });

  it('retries a retriable failure and then handles the event exactly once more, with nothing dead-lettered', async () => {
    const placed = orderPlaced();
    let calls = 0;
    let handledAt: DeliveryInfo | undefined;
    const { publisher, consumer, committed, dlq, outcomes } = await consumerOf({
      maxAttempts: 1,
      handle: async (_event, delivery) => {
        calls++;
        if (calls <= 2) throw new RetriableError('database is restarting');
        handledAt = delivery;
      },
    });
    await publisher.send([wire(placed)]);

    await consumer.start();
    await waitFor(() => handledAt !== undefined, { what: 'the third attempt to succeed' });
    await waitFor(async () => (await committed(handledAt!.partition)) === 1, { what: 'the offset to be committed' });

    await settle(200);
    expect(calls).toBe(3);
    expect(outcomes).toEqual(['processed']);
    expect(await sandbox.topicSize(dlq)).toBe(0);
  });

  it('does not count retriable failures towards the attempts before dead-lettering', async () => {
    const placed = orderPlaced();
    const failures = [new RetriableError('broker away'), new Error('bug'), new RetriableError('broker away'), new Error('bug')];
    let calls = 0;
    const { publisher, consumer, dlq, outcomes } = await consumerOf({
      maxAttempts: 3,
      handle: async () => {
        const failure = failures[calls++];
        if (failure) throw failure;
      },
    });
    await publisher.send([wire(placed)]);

    await consumer.start();
    await waitFor(() => outcomes.length === 1, { what: 'an outcome' });

    expect(outcomes).toEqual(['processed']);
    expect(calls).toBe(5);
    expect(await sandbox.topicSize(dlq)).toBe(0);
  });

  it('dead-letters an event whose handler keeps failing after maxAttempts attempts, then moves on', async () => {
    const orderId = `order-${randomUUID()}`;
    const poison = orderPlaced(orderId);
    const next = orderConfirmed(orderId);
    const calls = new Map<string, number>();
    const handled: Handled[] = [];
    const { publisher, consumer, committed, topic, dlq, outcomes } = await consumerOf({
      maxAttempts: 3,
      handle: async (event, delivery) => {
        calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
        if (event.id === poison.id) throw new TypeError('cannot read properties of undefined');
        handled.push({ event, delivery });
      },
    });
    await publisher.send([wire(poison), wire(next)]);

    await consumer.start();
    await waitFor(() => handled.length === 1, { what: 'the next event' });

    expect(calls.get(poison.id)).toBe(3);
    expect(handled[0]?.event).toEqual(next);
    const partition = handled[0]!.delivery.partition;
    await waitFor(async () => (await committed(partition)) === 2, { what: 'both offsets to be committed' });
    expect(outcomes).toEqual(['dead-lettered', 'processed']);

    const [letter, ...more] = await sandbox.readTopic(dlq, 1);
    expect(more).toEqual([]);
    const original = encodeEvent(poison);
    expect(letter?.key).toBe(original.key);
    expect(letter?.value).toBe(original.value);
    expect(letter?.headers).toMatchObject({
      ...original.headers,
      'dlq-error': 'cannot read properties of undefined',
      'dlq-error-name': 'TypeError',
      'dlq-original-topic': topic,
      'dlq-original-partition': String(partition),
      'dlq-original-offset': '0',
      'dlq-consumer-group': 'payment',
      'dlq-attempts': '3',
    });
    expect(Number.isNaN(Date.parse(letter?.headers['dlq-at'] ?? ''))).toBe(false);
    expect(await sandbox.topicSize(dlq)).toBe(1);
  });

  it('dead-letters invalid messages with the reason and keeps processing the partition', async () => {
    const orderId = `order-${randomUUID()}`;
    const placed = encodeEvent(orderPlaced(orderId));
    const invalid = [
      { reason: /value is not JSON/, message: { ...placed, value: '{"orderId": ' } },
      {
        reason: /envelope is incomplete: ce_id is required; ce_source is required/,
        message: { key: orderId, value: placed.value, headers: { 'content-type': 'application/json', ce_type: 'OrderPlaced' } },
      },
      { reason: /OrderPlaced data is invalid: items /, message: { ...placed, value: JSON.stringify({ ...JSON.parse(placed.value), items: [] }) } },
      {
        reason: /envelope is incomplete: ce_type is required/,
        message: { ...placed, headers: Object.fromEntries(Object.entries(placed.headers).filter(([name]) => name !== 'ce_type')) },
      },
      { reason: /does not match subject/, message: { ...placed, key: 'someone-else', headers: { ...placed.headers } } },
    ];
    const valid = orderConfirmed(orderId);
    const handled: Handled[] = [];
    const { publisher, consumer, committed, topic, dlq, outcomes } = await consumerOf({
      handle: async (event, delivery) => {
        handled.push({ event, delivery });
      },
    });
    // All keyed by the order (the mismatched key aside), so they share one partition, in this order.
    await publisher.send([...invalid.map((i) => ({ topic: 'orders.events', ...i.message })), wire(valid)]);

    await consumer.start();
    await waitFor(() => handled.length === 1, { what: 'the valid event' });

    expect(handled[0]?.event).toEqual(valid);
    const partition = handled[0]!.delivery.partition;
    await waitFor(async () => (await committed(partition)) === Number(handled[0]!.delivery.offset) + 1, { what: 'the commit' });
    // The mismatched key may hash to another partition, consumed concurrently: compare as a multiset.
    expect([...outcomes].sort()).toEqual(['dead-lettered', 'dead-lettered', 'dead-lettered', 'dead-lettered', 'dead-lettered', 'processed']);

    const letters = await sandbox.readTopic(dlq, invalid.length);
    expect(letters).toHaveLength(invalid.length);
    const letterOf = (message: (typeof invalid)[number]['message']) =>
      letters.find((l) => l.value === message.value && l.key === message.key && l.headers['ce_type'] === message.headers['ce_type']);
    expect(new Set(invalid.map((i) => letterOf(i.message))).size).toBe(invalid.length);
    for (const { reason, message } of invalid) {
      const letter = letterOf(message);
      expect(letter?.headers['dlq-error']).toMatch(reason);
      expect(letter?.headers).toMatchObject({ 'dlq-error-name': 'InvalidEventError', 'dlq-original-topic': topic, 'dlq-attempts': '0' });
    }
    // The four keyed by the order were parked with their own partition and offsets.
    expect(invalid.slice(0, 4).map((i) => letterOf(i.message)?.headers['dlq-original-partition'])).toEqual(Array(4).fill(String(partition)));
    expect(invalid.slice(0, 4).map((i) => letterOf(i.message)?.headers['dlq-original-offset'])).toEqual(['0', '1', '2', '3']);
    expect(await sandbox.topicSize(dlq)).toBe(invalid.length);
  });

  it('acknowledges events of types it does not handle without calling the handler', async () => {
    const orderId = `order-${randomUUID()}`;
    const before = orderConfirmed(orderId);
    const placed = orderPlaced(orderId);
    const after = orderConfirmed(orderId);
    const handled: Handled[] = [];
    const { publisher, consumer, committed, dlq, outcomes } = await consumerOf({
      handles: (type) => type === 'OrderPlaced',
      handle: async (event, delivery) => {
        handled.push({ event, delivery });
      },
    });
    await publisher.send([wire(before), wire(placed), wire(after)]);

    await consumer.start();
    await waitFor(() => outcomes.length === 3, { what: 'three outcomes' });

    expect(handled.map((h) => h.event)).toEqual([placed]);
    expect(outcomes).toEqual(['ignored', 'processed', 'ignored']);
    await waitFor(async () => (await committed(handled[0]!.delivery.partition)) === 3, { what: 'all three offsets to be committed' });
    expect(await sandbox.topicSize(dlq)).toBe(0);
  });
  it('skips an event of a type it does not handle from its header, without decoding the value', async () => {
    const orderId = `order-${randomUUID()}`;
    const confirmed = encodeEvent(orderConfirmed(orderId));
    const placed = orderPlaced(orderId);
    const handled: Handled[] = [];
    const { publisher, consumer, committed, dlq, outcomes } = await consumerOf({
      handles: (type) => type === 'OrderPlaced',
      handle: async (event, delivery) => {
        handled.push({ event, delivery });
      },
    });
    await publisher.send([{ topic: 'orders.events', ...confirmed, value: 'not JSON at all {' }, wire(placed)]);

    await consumer.start();
    await waitFor(() => outcomes.length === 2, { what: 'two outcomes' });

    expect(outcomes).toEqual(['ignored', 'processed']);
    expect(handled.map((h) => h.event)).toEqual([placed]);
    await waitFor(async () => (await committed(handled[0]!.delivery.partition)) === 2, { what: 'both offsets to be committed' });
    await settle(200);
    expect(await sandbox.topicSize(dlq)).toBe(0);
  });

  it('skips an event of a type unknown to the contracts even when it handles every known type', async () => {
    const orderId = `order-${randomUUID()}`;
    const placed = encodeEvent(orderPlaced(orderId));
    const next = orderConfirmed(orderId);
    const handled: Handled[] = [];
    const { publisher, consumer, committed, dlq, outcomes } = await consumerOf({
      handle: async (event, delivery) => {
        handled.push({ event, delivery });
      },
    });
    await publisher.send([
      { topic: 'orders.events', ...placed, value: '{"future": true}', headers: { ...placed.headers, ce_type: 'SomethingNew' } },
      wire(next),
    ]);

    await consumer.start();
    await waitFor(() => outcomes.length === 2, { what: 'two outcomes' });

    expect(outcomes).toEqual(['ignored', 'processed']);
    expect(handled.map((h) => h.event)).toEqual([next]);
    await waitFor(async () => (await committed(handled[0]!.delivery.partition)) === 2, { what: 'both offsets to be committed' });
    expect(await sandbox.topicSize(dlq)).toBe(0);
  });

  it('handles a redriven event only in the consumer group it was redriven for', async () => {
    const orderId = `order-${randomUUID()}`;
    const forUs = encodeEvent(orderPlaced(orderId));
    const forOthers = encodeEvent(orderPlaced(orderId));
    const handled: Handled[] = [];
    const { publisher, consumer, committed, dlq, outcomes } = await consumerOf({
      handle: async (event, delivery) => {
        handled.push({ event, delivery });
      },
    });
    await publisher.send([
      // Not even decoded: another group's redrive is skipped from its headers.
      { topic: 'orders.events', ...forOthers, value: 'not JSON', headers: { ...forOthers.headers, 'dlq-redrive-for': 'inventory' } },
      { topic: 'orders.events', ...forUs, headers: { ...forUs.headers, 'dlq-redrive-for': 'payment' } },
    ]);

    await consumer.start();
    await waitFor(() => outcomes.length === 2, { what: 'two outcomes' });

    expect(outcomes).toEqual(['ignored', 'processed']);
    expect(handled.map((h) => h.event.id)).toEqual([forUs.headers['ce_id']]);
    await waitFor(async () => (await committed(handled[0]!.delivery.partition)) === 2, { what: 'both offsets to be committed' });
    expect(await sandbox.topicSize(dlq)).toBe(0);
  });

  it("trusts an error's own retriable flag over the configured classifier", async () => {
    const orderId = `order-${randomUUID()}`;
    const refused = orderPlaced(orderId);
    const flaky = orderConfirmed(orderId);
    const calls = new Map<string, number>();
    const refusal = Object.assign(new Error('order total does not match its lines'), { retriable: false });
    const outage = Object.assign(new Error('pool exhausted'), { retriable: true });
    const { publisher, consumer, dlq, outcomes } = await consumerOf({
      maxAttempts: 2,
      // Would retry the refusal forever and give up on the outage: the errors' flags win.
      isRetriable: (error) => error === refusal,
      handle: async (event) => {
        const n = (calls.get(event.id) ?? 0) + 1;
        calls.set(event.id, n);
        if (event.id === refused.id) throw refusal;
        if (n <= 3) throw outage;
      },
    });
    await publisher.send([wire(refused), wire(flaky)]);

    await consumer.start();
    await waitFor(() => outcomes.length === 2, { what: 'two outcomes' });

    expect(outcomes).toEqual(['dead-lettered', 'processed']);
    expect(calls.get(refused.id)).toBe(2);
    expect(calls.get(flaky.id)).toBe(4);
    expect(await sandbox.topicSize(dlq)).toBe(1);
  });
});
