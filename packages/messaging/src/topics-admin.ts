import { ALL_TOPICS, TOPIC_PARTITIONS, Topics, dlqTopicOf } from '@orderflow/contracts';
import { ConfigResourceTypes, ConfigSource, type Admin, type Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Topic-level configuration the topic must have, e.g. `{ 'cleanup.policy': 'compact' }`. */
  config?: Record<string, string>;
}

/**
 * `inventory.products` carries each product's full state in every message (keyed
 * by sku), so compaction keeps the whole catalog however old it is: the storefront
 * can always be rebuilt from it. Its dead-letter topic keeps the default delete policy.
 */
const TOPIC_CONFIG: Partial<Record<string, Record<string, string>>> = {
  [Topics.products]: { 'cleanup.policy': 'compact' },
};

/** Every event topic and its dead-letter topic, with the project's partition count and topic configuration. */
export function orderflowTopics(prefix = ''): TopicSpec[] {
  return ALL_TOPICS.flatMap((t) => [t, dlqTopicOf(t)]).map((t) => {
    const config = TOPIC_CONFIG[t];
    return { topic: `${prefix}${t}`, numPartitions: TOPIC_PARTITIONS, ...(config ? { config: { ...config } } : {}) };
  });
}

/**
 * Creates missing topics with their configuration, and brings the configuration of
 * existing ones in line (an `inventory.products` created before it was compacted
 * becomes compacted). Partition counts of existing topics are left as they are.
 * Safe to run from every service at boot; returns the topics it created.
 */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[], replicationFactor = 1): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    let created = missing.map((t) => t.topic);
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((t) => ({
            topic: t.topic,
            numPartitions: t.numPartitions,
            replicationFactor,
            ...(t.config ? { configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })) } : {}),
          })),
        });
      } catch (error) {
        // Another instance created them concurrently: that is the outcome we wanted.
        if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
        created = [];
      }
      await waitForLeaders(admin, missing.map((t) => t.topic));
    }
    await alignTopicConfigs(
      admin,
      topics.filter((t) => t.config && existing.has(t.topic)),
    );
    return created;
  } finally {
    await admin.disconnect();
  }
}

/**
 * kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but a KRaft
 * broker answers UNKNOWN_TOPIC_OR_PARTITION until it has applied the new topic's
 * metadata record: under load that failed boots. Wait for both, within `timeoutMs`.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  await pollUntil(timeoutMs, async () => {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      return metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) || `the leaders of ${topics.join(', ')}`;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw error;
      return `the leaders of ${topics.join(', ')}`;
    }
  });
}

/**
 * Asks `check` every 100 ms until it answers true; past `timeoutMs`, fails with what
 * its last answer said was still missing.
 */
async function pollUntil(timeoutMs: number, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing = await check();
    if (missing === true) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${missing}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * kafkajs only speaks the legacy AlterConfigs request, which *replaces* a topic's
 * whole dynamic configuration (it has no IncrementalAlterConfigs): so read what is
 * set on the topic, merge ours over it, and write the union back, and only when
 * something differs.
 */
async function alignTopicConfigs(admin: Admin, topics: TopicSpec[]): Promise<void> {
  if (topics.length === 0) return;
  const resources = await describedConfigs(admin, topics);
  const changes = topics.flatMap((t) => {
    const current = resources.find((r) => r.resourceName === t.topic)?.configEntries ?? [];
    if (!differsFrom(t, current)) return [];
    const setOnTopic = Object.fromEntries(
      current.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !e.isSensitive).map((e) => [e.configName, e.configValue]),
    );
    const merged = { ...setOnTopic, ...t.config };
    return [
      {
        type: ConfigResourceTypes.TOPIC,
        name: t.topic,
        configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
      },
    ];
  });
  if (changes.length === 0) return;
  await admin.alterConfigs({ validateOnly: false, resources: changes });
  await waitForConfigs(admin, topics.filter((t) => changes.some((c) => c.name === t.topic)));
}

const describedConfigs = async (admin: Admin, topics: readonly TopicSpec[]) =>
  (
    await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic })),
    })
  ).resources;

/** Whether a topic's described configuration lacks any of the values `spec` wants. */
const differsFrom = (spec: TopicSpec, current: readonly { configName: string; configValue: string }[]): boolean =>
  Object.entries(spec.config ?? {}).some(([name, value]) => current.find((e) => e.configName === name)?.configValue !== value);

/**
 * A KRaft broker answers AlterConfigs once the controller has the change, and applies
 * it to what it describes a moment later: wait until every topic shows the wanted
 * values, so that ensureTopics returns only with the configuration in effect.
 */
async function waitForConfigs(admin: Admin, topics: TopicSpec[], timeoutMs = 30_000): Promise<void> {
  await pollUntil(timeoutMs, async () => {
    const resources = await describedConfigs(admin, topics);
    const pending = topics.filter((t) => differsFrom(t, resources.find((r) => r.resourceName === t.topic)?.configEntries ?? []));
    return pending.length === 0 || `the configuration of ${pending.map((t) => t.topic).join(', ')} to take effect`;
  });
}

/**
 * True when the broker answers a metadata request within `timeoutMs`: used by
 * readiness probes, which must answer promptly rather than wait out the client's
 * connection retries.
 */
export async function brokerReachable(kafka: Kafka, timeoutMs = 3_000): Promise<boolean> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  const check = admin
    .connect()
    .then(() => admin.describeCluster())
    .then(
      () => true,
      () => false,
    );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
    // A connect still retrying in the background is closed once it settles.
    void check.finally(() => admin.disconnect().catch(() => undefined));
  }
}
