import { ALL_TOPICS } from '@orderflow/contracts';
import { brokerReachable, createKafka, ensureTopics, orderflowTopics } from '../src';
import { KafkaSandbox } from './support';

let sandbox: KafkaSandbox;

beforeEach(() => {
  sandbox = new KafkaSandbox('it-messaging-topics');
});

afterEach(async () => {
  await sandbox.cleanup();
});

describe('ensureTopics', () => {
  it('creates every Orderflow topic and its dead-letter topic with three partitions, once', async () => {
    const specs = orderflowTopics(sandbox.prefix);
    specs.forEach((s) => sandbox.trackTopic(s.topic));

    const created = await ensureTopics(sandbox.kafka, specs);

    expect([...created].sort()).toEqual(ALL_TOPICS.flatMap((t) => [`${sandbox.prefix}${t}`, `${sandbox.prefix}${t}.dlq`]).sort());
    const admin = await sandbox.admin();
    const { topics } = await admin.fetchTopicMetadata({ topics: created });
    expect(topics).toHaveLength(ALL_TOPICS.length * 2);
    expect(topics.every((t) => t.partitions.length === 3)).toBe(true);
    await expect(ensureTopics(sandbox.kafka, specs)).resolves.toEqual([]);
  });

  it('creates only the missing topics and leaves existing ones as they are', async () => {
    const existing = `${sandbox.prefix}orders.events`;
    const missing = `${sandbox.prefix}payments.events`;
    sandbox.trackTopic(existing);
    sandbox.trackTopic(missing);
    await ensureTopics(sandbox.kafka, [{ topic: existing, numPartitions: 1 }]);

    const created = await ensureTopics(sandbox.kafka, [
      { topic: existing, numPartitions: 3 },
      { topic: missing, numPartitions: 2 },
    ]);

    expect(created).toEqual([missing]);
    const admin = await sandbox.admin();
    const { topics } = await admin.fetchTopicMetadata({ topics: [existing, missing] });
    const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({ [existing]: 1, [missing]: 2 });
  });

  it('is safe when several services create the same topics at once', async () => {
    const specs = orderflowTopics(sandbox.prefix);
    specs.forEach((s) => sandbox.trackTopic(s.topic));

    const results = await Promise.allSettled(Array.from({ length: 4 }, () => ensureTopics(sandbox.kafka, specs)));

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const admin = await sandbox.admin();
    const names = new Set(await admin.listTopics());
    expect(specs.every((s) => names.has(s.topic))).toBe(true);
  });
});

describe('brokerReachable', () => {
  it('is true for the running broker', async () => {
    await expect(brokerReachable(sandbox.kafka)).resolves.toBe(true);
  });

  // It answers readiness probes and asks for no retries: a refused connection should
  // be reported within about one connection timeout (3 s), not after the client's retries.
  it('is false, promptly, when nothing listens at the address', async () => {
    const started = Date.now();

    const reachable = await brokerReachable(createKafka({ brokers: ['127.0.0.1:1'], clientId: 'it-unreachable' }));

    expect({ reachable, answeredWithin5s: Date.now() - started < 5_000 }).toEqual({ reachable: false, answeredWithin5s: true });
  });
});
