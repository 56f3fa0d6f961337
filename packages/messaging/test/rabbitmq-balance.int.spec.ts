import { randomUUID } from 'node:crypto';
import type { ReceivedEvent, Subscriber } from '../src';
import { RabbitSandbox } from './rabbitmq-support';
import { orderConfirmed, settle, waitFor, wire } from './support';

const PARTITIONS = 6;
const BALANCE_INTERVAL_MS = 200;

let sandbox: RabbitSandbox;

beforeEach(() => {
  sandbox = new RabbitSandbox(PARTITIONS);
});

afterEach(async () => {
  await sandbox.cleanup();
});

/**
 * A group `payment` on `orders.events` with instances started on demand, many keys
 * published continuously, and what each instance handled, in order.
 */
async function setUp() {
  const transport = sandbox.transport({ balanceIntervalMs: BALANCE_INTERVAL_MS });
  await transport.setUp();
  const publisher = transport.publisher();
  const keys = Array.from({ length: 60 }, () => `order-${randomUUID()}`);
  const sent = new Map<string, string[]>(keys.map((k) => [k, []]));
  const handled = new Map<string, string[]>(keys.map((k) => [k, []]));
  /** The instance that handled each partition's latest event. */
  const holder = new Map<number, string>();
  const handledBy = new Map<string, number>();

  const instance = (name: string): Subscriber => {
    const subscriber = sandbox.transport({ clientId: `it-rabbitmq-${name}-${sandbox.prefix}`, balanceIntervalMs: BALANCE_INTERVAL_MS }).subscriber({
      groupId: 'payment',
      topics: ['orders.events'],
      handles: () => true,
      maxBatchSize: 20,
      ...(process.env['DEBUG_RABBIT'] ? { logger: { log: (m: string) => console.log(name, m), warn: (m: string) => console.log(name, m), error: (m: string) => console.log(name, m) } } : {}),
      handleBatch: async (events: readonly ReceivedEvent[]) => {
        // Long enough that a hand-over finds a batch in flight and messages prefetched behind it.
        await settle(5);
        for (const { event, delivery } of events) {
          handled.get(event.subject)!.push(event.id);
          holder.set(delivery.partition, name);
          handledBy.set(name, (handledBy.get(name) ?? 0) + 1);
        }
      },
    });
    sandbox.onCleanup(() => subscriber.stop());
    return subscriber;
  };

  let publishing = true;
  const publishing$ = (async () => {
    while (publishing) {
      const batch = keys.map((key) => orderConfirmed(key));
      for (const e of batch) sent.get(e.subject)!.push(e.id);
      await publisher.send(batch.map((e) => wire(e)));
      await settle(25);
    }
  })();
  sandbox.onCleanup(async () => {
    publishing = false;
    await publishing$;
  });

  /** Partitions whose latest event each instance handled. */
  const shares = (names: readonly string[]): number[] => names.map((n) => [...holder.values()].filter((h) => h === n).length);
  /** Waits until the partitions, still busy, are held `expected[i]` by `names[i]`, over a window with no hand-over in it. */
  const settledShares = async (names: readonly string[], expected: readonly number[], timeoutMs: number): Promise<void> => {
    await waitFor(
      async () => {
        holder.clear();
        await settle(400);
        return holder.size === PARTITIONS && shares(names).every((s, i) => s === expected[i]);
      },
      { timeoutMs, what: `partitions shared ${expected.join('/')} between ${names.join(', ')} (last: ${shares(names).join('/')})` },
    );
  };

  /** Stops publishing, waits for everything sent, and checks every key's handled sequence is the sent one: none lost, reordered or repeated. */
  const drainAndCheck = async (): Promise<void> => {
    publishing = false;
    await publishing$;
    const total = [...sent.values()].reduce((n, ids) => n + ids.length, 0);
    const count = () => [...handled.values()].reduce((n, ids) => n + ids.length, 0);
    await waitFor(() => count() >= total, { timeoutMs: 30_000, what: `${total} events handled` });
    await settle(300);
    for (const key of keys) expect(handled.get(key)).toEqual(sent.get(key));
  };

  return { instance, settledShares, drainAndCheck, handledBy };
}

describe('RabbitMQ consumer group balancing', () => {
  it('shares the partitions between two instances, keeping every key in order across the hand-overs and losing nothing', async () => {
    const { instance, settledShares, drainAndCheck, handledBy } = await setUp();
    const a = instance('a');
    await a.start();
    await settledShares(['a'], [PARTITIONS], 10_000);

    const b = instance('b');
    await b.start();
    await settledShares(['a', 'b'], [PARTITIONS / 2, PARTITIONS / 2], 15_000);
    await drainAndCheck();
    expect(handledBy.get('b')).toBeGreaterThan(0);
  });

  it('shares the partitions among three instances and gives a stopped one’s partitions to the others, in order and losing nothing', async () => {
    const { instance, settledShares, drainAndCheck } = await setUp();
    const [a, b, c] = [instance('a'), instance('b'), instance('c')];
    await a.start();
    await b.start();
    await c.start();
    await settledShares(['a', 'b', 'c'], [2, 2, 2], 20_000);

    await b.stop();
    await settledShares(['a', 'c'], [3, 3], 15_000);
    await drainAndCheck();
  });
});
