import { BrokerRefusedError, KafkaPublisher, createKafka } from '../src';
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

  it('replaces its producer after a failed send, and the next send is stored exactly once', async () => {
    await sandbox.createTopics(['orders.events']);
    await publisher.send([message('order-1', 0)]);
    const before = publisher.producerGeneration;

    // Nothing shared is stopped: a topic that does not exist fails the send for good.
    const failed = publisher.send([message('order-1', 1, 'no-such.events')]);
    await expect(failed).rejects.toThrow(BrokerRefusedError);
    await expect(failed).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
    await publisher.send([message('order-1', 2)]);

    expect(publisher.producerGeneration).toBe(before + 1);
    const received = await sandbox.readTopic(`${sandbox.prefix}orders.events`, 2);
    expect(received.map((m) => m.headers['seq'])).toEqual(['0', '2']);
    expect(await sandbox.topicSize(`${sandbox.prefix}orders.events`)).toBe(2);
  });

  it('sends by partition to the partition the producer itself would choose for each key', async () => {
    await sandbox.createTopics(['orders.events', 'payments.events']);
    const keys = Array.from({ length: 12 }, (_, i) => `order-${i}`);

    await publisher.send(keys.map((key) => message(key, 0, 'payments.events')));
    const report = await publisher.sendByPartition(keys.map((key) => message(key, 0)));

    expect(report.failed).toEqual([]);
    expect(report.acked.map((m) => m.key).sort()).toEqual([...keys].sort());
    const byPartitioner = await sandbox.readTopic(`${sandbox.prefix}payments.events`, keys.length);
    const explicit = await sandbox.readTopic(`${sandbox.prefix}orders.events`, keys.length);
    const partitionOf = (received: typeof explicit): Record<string, number> => Object.fromEntries(received.map((m) => [m.key ?? '', m.partition]));
    expect(partitionOf(explicit)).toEqual(partitionOf(byPartitioner));
  });

  it('sends the groups of several partitions and topics in one Produce request, each key in order', async () => {
    await sandbox.createTopics(['orders.events', 'payments.events']);
    const requests: string[] = [];
    const counted = new KafkaPublisher(sandbox.kafka, sandbox.prefix, { onRequest: (api) => requests.push(api) });
    sandbox.onCleanup(() => counted.disconnect());
    // Warmed up by another producer: on a topic just created, a first request may be retried while its leaders are elected.
    await publisher.send(['a', 'b', 'c', 'd'].flatMap((key) => [message(`warm-up-${key}`, 9), message(`warm-up-${key}`, 9, 'payments.events')]));
    const keys = Array.from({ length: 9 }, (_, i) => `order-${i}`);
    const sent = [0, 1, 2].flatMap((seq) => keys.flatMap((key) => [message(key, seq), message(key, seq, 'payments.events')]));

    const report = await counted.sendByPartition(sent);

    expect(report.failed).toEqual([]);
    expect(report.acked).toHaveLength(sent.length);
    expect(requests.filter((api) => api === 'Produce')).toEqual(['Produce']);
    for (const topic of ['orders.events', 'payments.events']) {
      const received = (await sandbox.readTopic(`${sandbox.prefix}${topic}`, sent.length / 2 + 4)).filter((m) => !m.key?.startsWith('warm-up'));
      expect(new Set(received.map((m) => m.partition)).size).toBeGreaterThan(1);
      for (const key of keys) expect(received.filter((m) => m.key === key).map((m) => m.headers['seq'])).toEqual(['0', '1', '2']);
    }
  });

  it('reports which partition group the broker refused and acknowledges the others', async () => {
    await sandbox.createTopics(['orders.events']);
    const admin = await sandbox.admin();
    const small = `${sandbox.prefix}small.events`;
    sandbox.trackTopic(small);
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: small, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }],
    });
    const tooLarge = { ...message('order-9', 0, 'small.events'), value: 'x'.repeat(10_000) };

    const report = await publisher.sendByPartition([message('order-1', 0), tooLarge, message('order-2', 0), message('order-3', 0, 'missing.events')]);

    expect(report.acked.map((m) => m.key).sort()).toEqual(['order-1', 'order-2']);
    expect(report.failed.map((f) => [f.topic, f.messages.map((m) => m.key), f.error.name, f.error.code])).toEqual([
      ['small.events', ['order-9'], 'BrokerRefusedError', 'MESSAGE_TOO_LARGE'],
      ['missing.events', ['order-3'], 'BrokerRefusedError', 'UNKNOWN_TOPIC_OR_PARTITION'],
    ]);
    // Stored by the request with every group, then sent again alone to find the culprit: the broker took them as duplicates.
    expect(await sandbox.topicSize(`${sandbox.prefix}orders.events`)).toBe(2);
    expect(await sandbox.topicSize(small)).toBe(0);
  });

  it('resolves an empty send without touching the broker', async () => {
    const unreachable = new KafkaPublisher(createKafka({ brokers: ['127.0.0.1:1'], clientId: 'it-unreachable' }), 'nowhere.');
    await expect(unreachable.send([])).resolves.toBeUndefined();
  });
});
