import { randomUUID } from 'node:crypto';
import { ALL_TOPICS } from '@orderflow/contracts';
import { BrokerRefusedError, BrokerUnavailableError } from '../src';
import { RabbitMqTransport } from '../src/rabbitmq/transport';
import { partitionOfKey, topologyNames } from '../src/rabbitmq/topology';
import { RABBITMQ_URL, RabbitSandbox } from './rabbitmq-support';
import { orderConfirmed, orderPlaced, wire } from './support';

let sandbox: RabbitSandbox;

beforeEach(() => {
  sandbox = new RabbitSandbox();
});

afterEach(async () => {
  await sandbox.cleanup();
});

describe('RabbitMQ transport', () => {
  it('sets the topology up once and finds it in place the second time', async () => {
    const transport = sandbox.transport();
    const created = await transport.setUp();
    const { exchanges, queues } = topologyNames({ prefix: sandbox.prefix, partitions: sandbox.partitions });
    expect(created.sort()).toEqual([...exchanges, ...queues].sort());
    expect(queues).toContain(`${sandbox.prefix}payment.orders.events.1`);
    expect(queues).toContain(`${sandbox.prefix}orders.events.dlq`);
    expect(exchanges).toHaveLength(ALL_TOPICS.length * 2);
    expect(await transport.setUp()).toEqual([]);
    expect(transport.description).toBe('RabbitMQ at amqp://guest@127.0.0.1:5672');
    expect(await transport.reachable()).toBe(true);
  });

  it('says which queue exists with other settings', async () => {
    const connection = await sandbox.connection();
    const channel = await connection.createChannel();
    await channel.assertQueue(`${sandbox.prefix}payment.orders.events.0`, { durable: true });
    await expect(sandbox.transport().setUp()).rejects.toThrow(
      new RegExp(`queue '${sandbox.prefix.replace('.', '\\.')}payment\\.orders\\.events\\.0' exists with other settings.*x-queue-type`),
    );
  });

  it('routes each key to the partition queue Kafka would give it, for every group of the topic', async () => {
    const transport = sandbox.transport();
    await transport.setUp();
    const events = Array.from({ length: 20 }, () => orderPlaced());
    await transport.publisher().send(events.map((e) => wire(e)));

    const lags = await transport.lag(['orders.events']);
    for (const group of ['payment', 'inventory', 'shipping']) {
      for (let partition = 0; partition < sandbox.partitions; partition++) {
        const expected = events.filter((e) => partitionOfKey(e.subject, sandbox.partitions) === partition).length;
        expect(lags).toContainEqual({ group, topic: 'orders.events', partition, lag: expected });
      }
    }
    expect(lags).toHaveLength(3 * sandbox.partitions);
    expect(partitionOfKey('order-1', 3)).toBe(partitionOfKey('order-1', 3));
  });

  it('fails a send that no queue takes, or whose exchange is missing, as refused, and sends again afterwards', async () => {
    const transport = sandbox.transport();
    const connection = await sandbox.connection();
    const channel = await connection.createChannel();
    // An exchange without queues: a mandatory message comes back.
    await channel.assertExchange(`${sandbox.prefix}orders.events`, 'direct', { durable: true });
    const publisher = transport.publisher();
    const refused = publisher.send([wire(orderPlaced())]);
    await expect(refused).rejects.toBeInstanceOf(BrokerRefusedError);
    await expect(refused).rejects.toMatchObject({ code: 'NO_ROUTE' });

    await expect(publisher.send([wire(orderPlaced(), 'payments.events')])).rejects.toMatchObject({ name: 'BrokerRefusedError', code: 'NOT_FOUND' });

    await transport.setUp();
    await expect(publisher.send([wire(orderPlaced())])).resolves.toBeUndefined();
  });

  it('reports per partition which messages were acknowledged and which group failed', async () => {
    const transport = sandbox.transport();
    await transport.setUp();
    const orderId = `order-${randomUUID()}`;
    const good = [wire(orderPlaced(orderId)), wire(orderConfirmed(orderId))];
    const bad = { ...wire(orderPlaced()), topic: 'no.such.topic' };
    const report = await transport.publisher().sendByPartition([...good, bad]);
    expect(report.acked).toEqual(good);
    expect(report.failed).toEqual([{ topic: 'no.such.topic', partition: partitionOfKey(bad.key, sandbox.partitions), messages: [bad], error: expect.any(BrokerRefusedError) }]);
  });

  it('fails fast with a clear error when the broker cannot be reached or refuses the login', async () => {
    const unreachable = new RabbitMqTransport({ url: 'amqp://guest:guest@127.0.0.1:1', clientId: 'it-rabbitmq' });
    sandbox.onCleanup(() => unreachable.close());
    const started = Date.now();
    const send = unreachable.publisher().send([wire(orderPlaced())]);
    await expect(send).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(send).rejects.toThrow(/refused the connection.*RABBITMQ_URL/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await unreachable.reachable()).toBe(false);

    const badLogin = new RabbitMqTransport({ url: RABBITMQ_URL.replace(/:[^:@/]*@/, ':wrong-password@'), clientId: 'it-rabbitmq' });
    sandbox.onCleanup(() => badLogin.close());
    await expect(badLogin.setUp()).rejects.toThrow(/refused the login of user 'guest'.*RABBITMQ_URL/);
    expect(badLogin.description).not.toContain('wrong-password');

    const noVhost = new RabbitMqTransport({ url: `${RABBITMQ_URL}/no-such-vhost`, clientId: 'it-rabbitmq' });
    sandbox.onCleanup(() => noVhost.close());
    await expect(noVhost.setUp()).rejects.toThrow(/virtual host 'no-such-vhost'/);
  });

  it('lists dead letters without moving them, in order, with stable ids, filtered', async () => {
    const transport = sandbox.transport();
    await transport.setUp();
    const parked = [orderPlaced(), orderConfirmed(`order-${randomUUID()}`)].map((e, i) => ({
      ...wire(e, 'orders.events.dlq'),
      headers: { ...wire(e).headers, 'dlq-error': `boom ${i}`, 'dlq-consumer-group': i === 0 ? 'payment' : 'shipping', 'dlq-at': new Date().toISOString() },
    }));
    await transport.publisher().send(parked);

    const letters = await transport.listDeadLetters({ topics: ['orders.events', 'payments.events'] });
    expect(letters.map((l) => [l.type, l.group, l.error, l.key])).toEqual([
      ['OrderPlaced', 'payment', 'boom 0', parked[0]!.key],
      ['OrderConfirmed', 'shipping', 'boom 1', parked[1]!.key],
    ]);
    expect(await transport.listDeadLetters({ topics: ['orders.events'] })).toEqual(letters);
    expect(new Set(letters.map((l) => l.offset)).size).toBe(2);
    expect(await transport.listDeadLetters({ topics: ['orders.events'], group: 'shipping' })).toEqual([letters[1]]);
    expect(await transport.listDeadLetters({ topics: ['orders.events'], error: 'BOOM 0' })).toEqual([letters[0]]);

    const dry = await transport.redriveDeadLetters({ topic: 'orders.events', type: 'OrderConfirmed', dryRun: true });
    expect(dry).toEqual({ redriven: [letters[1]], alreadyRedriven: [], withoutGroup: [] });
    const redriven = await transport.redriveDeadLetters({ topic: 'orders.events', type: 'OrderConfirmed' });
    expect(redriven.redriven).toEqual([letters[1]]);
    const after = await transport.listDeadLetters({ topics: ['orders.events'] });
    expect(after.map((l) => [l.type, l.redriven])).toEqual([
      ['OrderPlaced', false],
      ['OrderConfirmed', true],
    ]);
    expect(after[0]).toEqual(letters[0]);
    const lag = await transport.lag(['orders.events']);
    expect(lag.filter((l) => l.lag > 0)).toEqual([
      { group: 'shipping', topic: 'orders.events', partition: partitionOfKey(parked[1]!.key, sandbox.partitions), lag: 1 },
      { group: 'payment', topic: 'orders.events', partition: partitionOfKey(parked[1]!.key, sandbox.partitions), lag: 1 },
      { group: 'inventory', topic: 'orders.events', partition: partitionOfKey(parked[1]!.key, sandbox.partitions), lag: 1 },
    ].sort((a, b) => ['payment', 'inventory', 'shipping'].indexOf(a.group) - ['payment', 'inventory', 'shipping'].indexOf(b.group)));
  });
});
