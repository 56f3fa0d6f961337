import { randomUUID } from 'node:crypto';
import type { AnyEvent } from '@orderflow/contracts';
import {
  DLQ_USAGE,
  EventConsumer,
  KafkaPublisher,
  KafkaTransport,
  listDeadLetters,
  redriveDeadLetters,
  redrivenTopicOf,
  runDlqCommand,
  type ProcessOutcome,
} from '../src';
import { KAFKA_BROKERS, KafkaSandbox, oneByOne, orderConfirmed, orderPlaced, settle, waitFor, wire } from './support';

let sandbox: KafkaSandbox;

beforeEach(() => {
  sandbox = new KafkaSandbox('it-messaging-dlq');
});

afterEach(async () => {
  await sandbox.cleanup();
});

/** One consumer group of `orders.events` whose handler fails for the event ids in `broken`. */
interface Group {
  name: string;
  /** Event ids the handler completed. */
  handled: string[];
  outcomes: ProcessOutcome[];
  broken: Map<string, string>;
}

async function ordersTopicWith(groupNames: readonly string[]) {
  await sandbox.createTopics(['orders.events']);
  sandbox.trackTopic(`${sandbox.prefix}${redrivenTopicOf('orders.events')}`);
  const publisher = new KafkaPublisher(sandbox.kafka, sandbox.prefix);
  sandbox.onCleanup(() => publisher.disconnect());
  const groups: Group[] = [];
  for (const name of groupNames) {
    const group: Group = { name, handled: [], outcomes: [], broken: new Map() };
    const consumer = new EventConsumer(sandbox.kafka, {
      groupId: name,
      topics: ['orders.events'],
      topicPrefix: sandbox.prefix,
      handles: () => true,
      deadLetters: publisher,
      maxAttempts: 1,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
      partitionsConsumedConcurrently: 3,
      onOutcome: (outcome) => group.outcomes.push(outcome),
      handleBatch: oneByOne(async (event: AnyEvent) => {
        const failure = group.broken.get(event.id);
        if (failure) throw new Error(failure);
        group.handled.push(event.id);
      }),
    });
    sandbox.trackGroup(`${sandbox.prefix}${name}`);
    sandbox.onCleanup(() => consumer.stop());
    groups.push(group);
    await consumer.start();
  }
  const topic = `${sandbox.prefix}orders.events`;
  return { publisher, groups, topic, dlq: `${topic}.dlq`, redriven: `${sandbox.prefix}${redrivenTopicOf('orders.events')}` };
}

const prefixOf = () => ({ prefix: sandbox.prefix });

describe('dead-letter redrive', () => {
  it('redrives a letter only to the consumer group that parked it, once, and a dry run changes nothing', async () => {
    const { publisher, groups, topic, dlq, redriven } = await ordersTopicWith(['payment', 'inventory', 'shipping']);
    const poison = orderPlaced();
    for (const g of groups) g.broken.set(poison.id, `${g.name} cannot handle it yet`);
    await publisher.send([wire(poison)]);
    await waitFor(async () => (await sandbox.topicSize(dlq)) === 3, { what: 'one letter per group', timeoutMs: 30_000 });
    for (const g of groups) g.broken.clear();

    const letters = await listDeadLetters(sandbox.kafka, { topics: ['orders.events'], ...prefixOf() });
    expect(letters.map((l) => l.group).sort()).toEqual(['inventory', 'payment', 'shipping']);
    expect(letters.every((l) => l.type === 'OrderPlaced' && l.topic === 'orders.events' && !l.redriven)).toBe(true);

    const dry = await redriveDeadLetters(sandbox.kafka, publisher, { topic: 'orders.events', dryRun: true, ...prefixOf() });
    expect(dry.redriven.map((l) => l.group).sort()).toEqual(['inventory', 'payment', 'shipping']);
    expect(await sandbox.topicSize(topic)).toBe(1);
    expect((await (await sandbox.admin()).listTopics()).includes(redriven)).toBe(false);

    const first = await redriveDeadLetters(sandbox.kafka, publisher, { topic: 'orders.events', group: 'inventory', ...prefixOf() });
    expect(first.redriven.map((l) => l.group)).toEqual(['inventory']);
    const [payment, inventory, shipping] = groups;
    await waitFor(() => inventory!.handled.includes(poison.id), { what: 'inventory to handle the redriven event' });
    await waitFor(() => payment!.outcomes.length === 2 && shipping!.outcomes.length === 2, { what: 'the others to see it' });
    expect(payment!.outcomes).toEqual(['dead-lettered', 'ignored']);
    expect(shipping!.outcomes).toEqual(['dead-lettered', 'ignored']);
    expect(inventory!.outcomes).toEqual(['dead-lettered', 'processed']);
    expect(payment!.handled).toEqual([]);
    expect(shipping!.handled).toEqual([]);

    const [redrivenEvent] = await sandbox.readTopic(topic, 2).then((all) => all.filter((m) => m.offset === '1'));
    expect(redrivenEvent?.key).toBe(poison.subject);
    expect(redrivenEvent?.headers['ce_id']).toBe(poison.id);
    expect(redrivenEvent?.headers['dlq-redrive-for']).toBe('inventory');
    expect(Object.keys(redrivenEvent?.headers ?? {}).filter((h) => h.startsWith('dlq-'))).toEqual(['dlq-redrive-for']);

    const again = await redriveDeadLetters(sandbox.kafka, publisher, { topic: 'orders.events', group: 'inventory', ...prefixOf() });
    expect(again.redriven).toEqual([]);
    expect(again.alreadyRedriven.map((l) => l.group)).toEqual(['inventory']);
    const after = await listDeadLetters(sandbox.kafka, { topics: ['orders.events'], ...prefixOf() });
    expect(after.filter((l) => l.redriven).map((l) => l.group)).toEqual(['inventory']);
    await settle(500);
    expect(inventory!.handled).toEqual([poison.id]);
    expect(await sandbox.topicSize(topic)).toBe(2);
  });

  it('filters letters by event type and error, and a filtered redrive leaves the others for a later one', async () => {
    const { publisher, groups, dlq, topic } = await ordersTopicWith(['payment']);
    const orderId = `order-${randomUUID()}`;
    const placed = orderPlaced(orderId);
    const confirmed = orderConfirmed(orderId);
    const [payment] = groups;
    payment!.broken.set(placed.id, 'card vault unreachable');
    payment!.broken.set(confirmed.id, 'Ledger KAPUT');
    await publisher.send([wire(placed), wire(confirmed)]);
    await waitFor(async () => (await sandbox.topicSize(dlq)) === 2, { what: 'two letters', timeoutMs: 30_000 });
    payment!.broken.clear();

    const byType = await listDeadLetters(sandbox.kafka, { topics: ['orders.events'], type: 'OrderConfirmed', ...prefixOf() });
    expect(byType.map((l) => l.headers['ce_id'])).toEqual([confirmed.id]);
    const byError = await listDeadLetters(sandbox.kafka, { topics: ['orders.events'], error: 'kaput', ...prefixOf() });
    expect(byError.map((l) => l.headers['ce_id'])).toEqual([confirmed.id]);
    const byOtherGroup = await listDeadLetters(sandbox.kafka, { topics: ['orders.events'], group: 'shipping', ...prefixOf() });
    expect(byOtherGroup).toEqual([]);

    const first = await redriveDeadLetters(sandbox.kafka, publisher, { topic: 'orders.events', error: 'VAULT', ...prefixOf() });
    expect(first.redriven.map((l) => l.headers['ce_id'])).toEqual([placed.id]);
    await waitFor(() => payment!.handled.includes(placed.id), { what: 'the redriven OrderPlaced' });

    const rest = await redriveDeadLetters(sandbox.kafka, publisher, { topic: 'orders.events', ...prefixOf() });
    expect(rest.redriven.map((l) => l.headers['ce_id'])).toEqual([confirmed.id]);
    expect(rest.alreadyRedriven.map((l) => l.headers['ce_id'])).toEqual([placed.id]);
    await waitFor(() => payment!.handled.includes(confirmed.id), { what: 'the redriven OrderConfirmed' });

    const none = await redriveDeadLetters(sandbox.kafka, publisher, { topic: 'orders.events', ...prefixOf() });
    expect(none.redriven).toEqual([]);
    await settle(300);
    expect(payment!.handled).toEqual([placed.id, confirmed.id]);
    expect(await sandbox.topicSize(topic)).toBe(4);
  });
});

describe('npm run dlq', () => {
  async function run(argv: string[]) {
    let out = '';
    let err = '';
    let connected = false;
    const code = await runDlqCommand(argv, {
      transport: () => {
        connected = true;
        return new KafkaTransport({ brokers: KAFKA_BROKERS.join(','), topicPrefix: sandbox.prefix, clientId: 'it-dlq-command' });
      },
      prefix: sandbox.prefix,
      out: (text) => (out += text),
      err: (text) => (err += text),
    });
    return { code, out, err, connected };
  }

  it.each([
    [[], /missing command/],
    [['purge'], /unknown command "purge"/],
    [['redrive'], /redrive needs --topic/],
    [['list', '--topic', 'orders.evnts'], /unknown topic "orders.evnts"/],
    [['list', '--group'], /--group needs a value/],
    [['list', '--dry-run'], /unexpected argument "--dry-run" \(only redrive has a dry run\)/],
    [['redrive', 'orders.events'], /unexpected argument "orders.events"/],
  ])('refuses %j with exit code 2, naming the bad argument, without touching Kafka', async (argv, message) => {
    const result = await run(argv);

    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err).toContain(DLQ_USAGE);
    expect(result.connected).toBe(false);
  });

  it('lists, dry-runs and redrives from the command line', async () => {
    const { publisher, groups, dlq, topic } = await ordersTopicWith(['payment']);
    const poison = orderPlaced();
    groups[0]!.broken.set(poison.id, 'boom');
    await publisher.send([wire(poison)]);
    await waitFor(async () => (await sandbox.topicSize(dlq)) === 1, { what: 'a letter', timeoutMs: 30_000 });
    groups[0]!.broken.clear();

    const listed = await run(['list', '--json', '--type=OrderPlaced']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject([{ topic: 'orders.events', type: 'OrderPlaced', group: 'payment', error: 'boom', redriven: false }]);

    const dry = await run(['redrive', '--topic', 'orders.events', '--dry-run']);
    expect(dry.out).toMatch(/would redrive 1 dead letter\(s\).*dry run/);
    expect(await sandbox.topicSize(topic)).toBe(1);

    const done = await run(['redrive', '--topic', 'orders.events', '--group', 'payment']);
    expect(done.code).toBe(0);
    expect(done.out).toMatch(/redrove 1 dead letter\(s\)/);
    await waitFor(() => groups[0]!.handled.includes(poison.id), { what: 'the redriven event' });

    const listedAfter = await run(['list']);
    expect(listedAfter.out).toMatch(/\(redriven\)/);
    expect(listedAfter.out).toMatch(/1 dead letter\(s\), 0 not redriven/);
  });
});
