import { KafkaPublisher, createKafka } from '../src';
import { KafkaSandbox } from './support';

let sandbox: KafkaSandbox;
let publisher: KafkaPublisher;

beforeEach(() => {
  sandbox = new KafkaSandbox('it-messaging-publisher');
  publisher = new KafkaPublisher(sandbox.kafka, sandbox.prefix);
  sandbox.onCleanup(() => publisher.disconnect());
});

afterEach(async () => {
  await sandbox.cleanup();
});

const message = (key: string, seq: number, topic = 'orders.events') => ({
  topic,
  key,
  value: JSON.stringify({ key, seq }),
  headers: { seq: String(seq) },
});

describe('KafkaPublisher', () => {
  it('puts messages with the same key on the same partition, in send order', async () => {
    await sandbox.createTopics(['orders.events']);
    const keys = Array.from({ length: 6 }, (_, i) => `order-${i}`);
    const perKey = 5;
    // Interleaved across keys, partly one by one and partly in batches.
    for (let seq = 0; seq < perKey - 2; seq++) {
      for (const key of keys) await publisher.send([message(key, seq)]);
    }
    await publisher.send(keys.flatMap((key) => [message(key, perKey - 2), message(key, perKey - 1)]));

    const received = await sandbox.readTopic(`${sandbox.prefix}orders.events`, keys.length * perKey);

    expect(received).toHaveLength(keys.length * perKey);
    for (const key of keys) {
      const mine = received.filter((m) => m.key === key);
      expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
      expect(mine.map((m) => (JSON.parse(m.value ?? '{}') as { seq: number }).seq)).toEqual([0, 1, 2, 3, 4]);
      expect(mine.map((m) => m.headers['seq'])).toEqual(['0', '1', '2', '3', '4']);
    }
    // Six keys on three partitions: the partitioner does spread them.
    expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
    expect(await sandbox.topicSize(`${sandbox.prefix}orders.events`)).toBe(keys.length * perKey);
  });

  it('routes one batch to several topics under its prefix', async () => {
    await sandbox.createTopics(['orders.events', 'payments.events']);

    await publisher.send([message('order-1', 0), message('order-1', 0, 'payments.events'), message('order-1', 1)]);

    const orders = await sandbox.readTopic(`${sandbox.prefix}orders.events`, 2);
    const payments = await sandbox.readTopic(`${sandbox.prefix}payments.events`, 1);
    expect(orders.map((m) => m.headers['seq'])).toEqual(['0', '1']);
    expect(payments.map((m) => m.value)).toEqual([JSON.stringify({ key: 'order-1', seq: 0 })]);
  });

  it('reconnects after being disconnected', async () => {
    await sandbox.createTopics(['orders.events']);
    await publisher.send([message('order-1', 0)]);

    await publisher.disconnect();
    await publisher.send([message('order-1', 1)]);

    const received = await sandbox.readTopic(`${sandbox.prefix}orders.events`, 2);
    expect(received.map((m) => m.headers['seq'])).toEqual(['0', '1']);
  });

  it('resolves an empty send without touching the broker', async () => {
    const unreachable = new KafkaPublisher(createKafka({ brokers: ['127.0.0.1:1'], clientId: 'it-unreachable' }), 'nowhere.');
    await expect(unreachable.send([])).resolves.toBeUndefined();
  });
});
