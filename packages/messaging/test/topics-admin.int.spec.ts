import { ALL_TOPICS } from '@orderflow/contracts';
import { ConfigResourceTypes } from 'kafkajs';
import { brokerReachable, createKafka, ensureTopics, orderflowTopics } from '../src';
import { KafkaSandbox, waitFor } from './support';

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

describe('topic configuration', () => {
  /** The topic's configuration as the broker reports it, for the names asked. */
  async function configOf(topic: string, names: string[]): Promise<Record<string, { value: string; setOnTopic: boolean }>> {
    const admin = await sandbox.admin();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: names }],
    });
    return Object.fromEntries(
      (resources[0]?.configEntries ?? []).map((e) => [e.configName, { value: e.configValue, setOnTopic: !e.isDefault }]),
    );
  }

  it('declares inventory.products compacted and every other topic, its dead-letter topic included, with the default policy', () => {
    const configs = Object.fromEntries(orderflowTopics('p.').map((t) => [t.topic, t.config]));

    expect(configs['p.inventory.products']).toEqual({ 'cleanup.policy': 'compact' });
    expect(Object.entries(configs).filter(([, config]) => config !== undefined).map(([topic]) => topic)).toEqual(['p.inventory.products']);
  });

  it('creates inventory.products compacted and its dead-letter topic with delete retention', async () => {
    const specs = orderflowTopics(sandbox.prefix).filter((s) => s.topic.includes('inventory.products'));
    specs.forEach((s) => sandbox.trackTopic(s.topic));

    await ensureTopics(sandbox.kafka, specs);

    await expect(configOf(`${sandbox.prefix}inventory.products`, ['cleanup.policy'])).resolves.toEqual({
      'cleanup.policy': { value: 'compact', setOnTopic: true },
    });
    await expect(configOf(`${sandbox.prefix}inventory.products.dlq`, ['cleanup.policy'])).resolves.toEqual({
      'cleanup.policy': { value: 'delete', setOnTopic: false },
    });
  });

  it('compacts an existing topic created with delete retention, keeping the other settings made on it', async () => {
    const topic = `${sandbox.prefix}inventory.products`;
    sandbox.trackTopic(topic);
    const admin = await sandbox.admin();
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'retention.ms', value: '604800000' },
          ],
        },
      ],
    });
    await waitFor(async () => (await admin.listTopics()).includes(topic), { what: `${topic} to be listed` });

    const created = await ensureTopics(sandbox.kafka, [{ topic, numPartitions: 3, config: { 'cleanup.policy': 'compact' } }]);

    expect(created).toEqual([]);
    await expect(configOf(topic, ['cleanup.policy', 'retention.ms'])).resolves.toEqual({
      'cleanup.policy': { value: 'compact', setOnTopic: true },
      'retention.ms': { value: '604800000', setOnTopic: true },
    });
    // Already aligned: a second run changes nothing and still succeeds.
    await expect(ensureTopics(sandbox.kafka, [{ topic, numPartitions: 3, config: { 'cleanup.policy': 'compact' } }])).resolves.toEqual([]);
    await expect(configOf(topic, ['cleanup.policy'])).resolves.toEqual({ 'cleanup.policy': { value: 'compact', setOnTopic: true } });
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
