import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@orderflow/contracts';
import {
  DeadLetterHeaders,
  RetriableError,
  type ProcessOutcome,
  type Subscriber,
  type Transport,
} from '../src';
import { oneByOne, orderConfirmed, orderPlaced, randomSuffix, waitFor, wire } from './support';

/** How a broker's spec makes its transport: under `prefix`, a namespace of the test's own. */
export interface TransportFactory {
  name: string;
  create(prefix: string): Transport;
  /** Longest a message may take to come back after a consumer left it unacknowledged (SQS: the visibility timeout). */
  redeliveryMs?: number;
}

type SubscriberOptions = Parameters<Transport['subscriber']>[0];

/**
 * The behaviour every transport owes the services, run against each broker: what
 * the handlers, the outbox relay and the tools rely on, through the `Transport`
 * interface only. Each broker's own spec adds what is particular to it.
 */
export function describeTransportContract(factory: TransportFactory): void {
  describe(`${factory.name} transport contract`, () => {
    let transport: Transport;
    const subscribers: Subscriber[] = [];

    beforeEach(async () => {
      transport = factory.create(`it-${randomSuffix()}.`);
      await transport.setUp();
    });

    afterEach(async () => {
      for (const s of subscribers.splice(0).reverse()) await s.stop().catch(() => undefined);
      await transport.tearDown().catch(() => undefined);
      await transport.close();
    });

    function subscribe(group: string, options: Partial<SubscriberOptions> & { handle?: Parameters<typeof oneByOne>[0] }): Subscriber {
      const { handle, ...rest } = options;
      const subscriber = transport.subscriber({
        groupId: group,
        topics: ['orders.events'],
        handles: () => true,
        handleBatch: handle ? oneByOne(handle) : async () => undefined,
        initialBackoffMs: 20,
        maxBackoffMs: 100,
        maxWaitTimeInMs: 1_000,
        ...rest,
      });
      subscribers.push(subscriber);
      return subscriber;
    }

    async function stop(subscriber: Subscriber): Promise<void> {
      subscribers.splice(subscribers.indexOf(subscriber), 1);
      await subscriber.stop();
    }

    it('creates its topology once: a second setUp creates nothing', async () => {
      expect(await transport.setUp()).toEqual([]);
      expect(await transport.reachable()).toBe(true);
    });

    it('delivers what was published before the group first ran, with its headers, several events to one handleBatch', async () => {
      const orderId = `order-${randomUUID()}`;
      const events = [orderPlaced(orderId), orderConfirmed(orderId), orderConfirmed(orderId)];
      const publisher = transport.publisher();
      await publisher.connect();
      await publisher.send(events.map((e) => wire(e)));
      const batches: AnyEvent[][] = [];
      await subscribe('payment', { handleBatch: async (batch) => void batches.push(batch.map((b) => b.event)) }).start();
      await waitFor(() => batches.flat().length >= 3, { timeoutMs: 20_000, what: 'the three events' });
      expect(batches.flat()).toEqual(events);
      expect(batches.some((b) => b.length > 1)).toBe(true);
    });

    it('delivers every event to every group that reads the topic', async () => {
      const event = orderPlaced();
      const seen: Record<string, string[]> = { payment: [], inventory: [], shipping: [] };
      for (const group of Object.keys(seen)) await subscribe(group, { handle: async (e) => void seen[group]!.push(e.id) }).start();
      await transport.publisher().send([wire(event)]);
      await waitFor(() => Object.values(seen).every((ids) => ids.length > 0), { timeoutMs: 20_000, what: 'every group to get the event' });
      expect(seen).toEqual({ payment: [event.id], inventory: [event.id], shipping: [event.id] });
    });

    it("keeps each key's events in order for a group of two instances, and acknowledges what sendByPartition reports", async () => {
      const keys = Array.from({ length: 12 }, () => `order-${randomUUID()}`);
      const sent = keys.flatMap((key) => [orderPlaced(key), orderConfirmed(key), orderConfirmed(key), orderConfirmed(key)]);
      const handled: AnyEvent[] = [];
      const handle = async (e: AnyEvent) => void handled.push(e);
      await subscribe('payment', { handle }).start();
      await subscribe('payment', { handle }).start();
      const report = await transport.publisher().sendByPartition(sent.map((e) => wire(e)));
      expect(report.failed).toEqual([]);
      expect(report.acked).toHaveLength(sent.length);
      await waitFor(() => new Set(handled.map((e) => e.id)).size === sent.length, { timeoutMs: 30_000, what: 'every event' });
      for (const key of keys) {
        const firsts = [...new Set(handled.filter((e) => e.subject === key).map((e) => e.id))];
        expect(firsts).toEqual(sent.filter((e) => e.subject === key).map((e) => e.id));
      }
    });

    it('retries a transient failure, then parks a poison event with its error and group, and handles the rest of its batch', async () => {
      const orderId = `order-${randomUUID()}`;
      const [good, poison, after] = [orderPlaced(orderId), orderConfirmed(orderId), orderConfirmed(orderId)];
      let transient = 2;
      const handled: string[] = [];
      const outcomes: ProcessOutcome[] = [];
      await subscribe('payment', {
        maxAttempts: 2,
        onOutcome: (o) => outcomes.push(o),
        handle: async (e) => {
          if (e.id === good.id && transient-- > 0) throw new RetriableError('database briefly away');
          if (e.id === poison.id) throw new Error('cannot be handled');
          handled.push(e.id);
        },
      }).start();
      await transport.publisher().send([good, poison, after].map((e) => wire(e)));
      await waitFor(() => handled.includes(after.id) && outcomes.includes('dead-lettered'), { timeoutMs: 30_000, what: 'the poison event parked and the next handled' });
      expect(handled).toEqual(expect.arrayContaining([good.id, after.id]));
      expect(handled).not.toContain(poison.id);
      const letters = await waitForLetters(1);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ topic: 'orders.events', type: 'OrderConfirmed', group: 'payment', error: 'cannot be handled', redriven: false });
      expect(letters[0]!.headers['ce_id']).toBe(poison.id);
      expect(letters[0]!.headers[DeadLetterHeaders.consumerGroup]).toBe('payment');
    });

    it('parks a message that is not a valid event, and skips a type the group does not handle without decoding it', async () => {
      const outcomes: [ProcessOutcome, string][] = [];
      const handled: string[] = [];
      await subscribe('payment', {
        handles: (type) => type !== 'OrderConfirmed',
        onOutcome: (o, type) => outcomes.push([o, type]),
        handle: async (e) => void handled.push(e.id),
      }).start();
      const valid = orderPlaced();
      const invalid = { ...wire(orderPlaced()), value: '{"not":"an order"}' };
      const unhandled = { ...wire(orderConfirmed(valid.subject)), value: 'not even json' };
      await transport.publisher().send([invalid, unhandled, wire(valid)]);
      // Three messages, possibly on three partitions that nothing orders: wait for every outcome.
      await waitFor(() => handled.includes(valid.id) && outcomes.length >= 3, { timeoutMs: 20_000, what: 'all three outcomes' });
      expect(outcomes).toEqual(expect.arrayContaining([['dead-lettered', 'OrderPlaced'], ['ignored', 'OrderConfirmed']]));
      const letters = await waitForLetters(1);
      expect(letters.map((l) => l.headers['ce_id'])).toEqual([invalid.headers['ce_id']]);
    });

    it('acknowledges nothing before the handler resolved: an event left in flight by a stopping consumer reaches the next one', async () => {
      const event = orderPlaced();
      let failing = true;
      const firstSaw: string[] = [];
      const first = subscribe('payment', {
        handle: async (e) => {
          firstSaw.push(e.id);
          if (failing) throw new RetriableError('still failing');
        },
      });
      await first.start();
      await transport.publisher().send([wire(event)]);
      await waitFor(() => firstSaw.length > 0, { timeoutMs: 20_000, what: 'the first consumer to try' });
      await stop(first);
      failing = false;
      const handled: string[] = [];
      await subscribe('payment', { handle: async (e) => void handled.push(e.id) }).start();
      await waitFor(() => handled.includes(event.id), { timeoutMs: 30_000 + (factory.redeliveryMs ?? 0), what: 'the event redelivered' });
    });

    it("redrives a letter to the group that parked it only; a dry run moves nothing", async () => {
      const event = orderPlaced();
      let broken = true;
      const payment: string[] = [];
      const inventory: string[] = [];
      await subscribe('payment', {
        maxAttempts: 1,
        handle: async (e) => {
          if (broken) throw new Error('bug in payment');
          payment.push(e.id);
        },
      }).start();
      await subscribe('inventory', { handle: async (e) => void inventory.push(e.id) }).start();
      await transport.publisher().send([wire(event)]);
      await waitForLetters(1);
      await waitFor(() => inventory.includes(event.id), { what: 'inventory to handle it' });

      const dry = await transport.redriveDeadLetters({ topic: 'orders.events', dryRun: true });
      expect(dry.redriven.map((l) => l.headers['ce_id'])).toEqual([event.id]);
      expect(await transport.listDeadLetters({ topics: ['orders.events'] })).toHaveLength(1);

      broken = false;
      const result = await transport.redriveDeadLetters({ topic: 'orders.events', group: 'payment' });
      expect(result.redriven.map((l) => l.headers['ce_id'])).toEqual([event.id]);
      await waitFor(() => payment.includes(event.id), { timeoutMs: 20_000, what: 'payment to handle the redriven event' });
      // Inventory handled the original; the redriven copy is addressed to payment alone.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(inventory).toEqual([event.id]);
      // The letter stays on record, marked: a second redrive leaves it alone (RabbitMQ and SQS re-park it with DeadLetterHeaders.redrivenAt).
      const kept = await transport.listDeadLetters({ topics: ['orders.events'] });
      expect(kept.map((l) => [l.headers['ce_id'], l.redriven])).toEqual([[event.id, true]]);
      const again = await transport.redriveDeadLetters({ topic: 'orders.events', group: 'payment' });
      expect(again.redriven).toEqual([]);
      expect(again.alreadyRedriven.map((l) => l.headers['ce_id'])).toEqual([event.id]);
    });

    it("reports a group's lag on a topic while its consumer is stopped", async () => {
      const handled: string[] = [];
      const first = subscribe('payment', { handle: async (e) => void handled.push(e.id) });
      await first.start();
      const warmUp = orderPlaced();
      await transport.publisher().send([wire(warmUp)]);
      await waitFor(() => handled.includes(warmUp.id), { timeoutMs: 20_000, what: 'the first event' });
      await stop(first);
      await transport.publisher().send([orderPlaced(), orderPlaced(), orderPlaced()].map((e) => wire(e)));
      await waitFor(
        async () => (await transport.lag(['orders.events'])).filter((l) => l.group === 'payment').reduce((sum, l) => sum + l.lag, 0) === 3,
        { timeoutMs: 20_000, what: "payment's lag to read 3" },
      );
    });

    async function waitForLetters(count: number) {
      let letters: Awaited<ReturnType<Transport['listDeadLetters']>> = [];
      await waitFor(
        async () => {
          letters = await transport.listDeadLetters({ topics: ['orders.events'] });
          return letters.length >= count;
        },
        { timeoutMs: 20_000, intervalMs: 300, what: `${count} dead letter(s)` },
      );
      return letters;
    }
  });
}
