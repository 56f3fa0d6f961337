import { ALL_TOPICS, TOPIC_PARTITIONS, dlqTopicOf } from '@orderflow/contracts';
import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

/** Every event topic and its dead-letter topic, with the project's partition count. */
export function orderflowTopics(prefix = ''): TopicSpec[] {
  return ALL_TOPICS.flatMap((t) => [t, dlqTopicOf(t)]).map((t) => ({ topic: `${prefix}${t}`, numPartitions: TOPIC_PARTITIONS }));
}

/** Creates missing topics; existing ones are left as they are. Safe to run from every service at boot. */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[], replicationFactor = 1): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions, replicationFactor })),
      });
    }
    return missing.map((t) => t.topic);
  } catch (error) {
    // Another instance created them concurrently: that is the outcome we wanted.
    if ((error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return [];
    throw error;
  } finally {
    await admin.disconnect();
  }
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
