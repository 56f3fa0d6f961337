import { randomUUID } from 'node:crypto';
import { dlqTopicOf } from '@orderflow/contracts';
import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_HEADER_PREFIX, DeadLetterHeaders, EVENT_TYPE_HEADER, headerStrings } from './headers';
import type { KafkaPublisher, OutgoingMessage } from './publisher';
import { topicOffsetsOnceLed } from './topic-offsets';

export interface DeadLetter {
  /** The topic the event was consumed from, without the environment's prefix. */
  topic: string;
  /** Where the letter sits in `<topic>.dlq`. */
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** `ce_type`, when the letter has one. */
  type: string | undefined;
  /** The consumer group that parked it, unprefixed. */
  group: string | undefined;
  error: string | undefined;
  /** Already redriven once to `group`: a later redrive leaves it alone. */
  redriven: boolean;
}

/** Every given criterion must match; `error` is a case-insensitive substring of the letter's error. */
export interface DeadLetterFilter {
  group?: string;
  type?: string;
  error?: string;
}

export interface DeadLetterQuery extends DeadLetterFilter {
  /** Original topics, unprefixed; their `.dlq` topics are read. */
  topics: readonly string[];
  prefix?: string;
}

export interface RedriveOptions extends DeadLetterFilter {
  topic: string;
  prefix?: string;
  /** Report what would be redriven; publish nothing and record nothing. */
  dryRun?: boolean;
}

export interface RedriveResult {
  /** The letters republished (or, in a dry run, that would be). */
  redriven: DeadLetter[];
  /** Matching letters left alone because an earlier redrive already took them. */
  alreadyRedriven: DeadLetter[];
  /** Matching letters that name no consumer group, so cannot be aimed at one. */
  withoutGroup: DeadLetter[];
}

/**
 * Which letters were redriven, kept in a compacted topic `<topic>.dlq.redriven`
 * keyed by the letter's own place in the dead-letter topic (`partition:offset`).
 * A consumer group's committed position (the old bookkeeping) can only say "up to
 * here", and a filtered redrive skips letters that a later redrive with another
 * filter must still find; a set of keys says exactly which ones were taken, and
 * compaction keeps one record per letter for as long as the letter exists.
 * The record is written after the event was republished: a crash in between
 * redrives that letter again next time, which the consumers' inboxes absorb;
 * the other order could lose it. Run one redrive of a topic at a time.
 */
export const redrivenTopicOf = (topic: string): string => `${dlqTopicOf(topic)}.redriven`;

const letterId = (partition: number, offset: string): string => `${partition}:${offset}`;

const REDRIVE_CHUNK = 100;

/**
 * A letter as a queue-based broker's dead-letter queue holds it (RabbitMQ, SQS):
 * partition 0, `offset` the broker's stable id for it, and redriven when a redrive
 * put it back marked with `dlq-redriven-at` (those brokers cannot record it apart).
 */
export function queuedLetter(topic: string, offset: string, message: { key: string | null; value: string | null; headers: Record<string, string> }): DeadLetter {
  const { headers } = message;
  return {
    topic,
    partition: 0,
    offset,
    key: message.key,
    value: message.value,
    headers,
    type: headers[EVENT_TYPE_HEADER],
    group: headers[DeadLetterHeaders.consumerGroup],
    error: headers[DeadLetterHeaders.error],
    redriven: headers[DeadLetterHeaders.redrivenAt] !== undefined,
  };
}

export function matchesFilter(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.group !== undefined && letter.group !== filter.group) return false;
  if (filter.type !== undefined && letter.type !== filter.type) return false;
  if (filter.error !== undefined && !(letter.error ?? '').toLowerCase().includes(filter.error.toLowerCase())) return false;
  return true;
}

interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads the given topics from the beginning up to their ends at the time of the
 * call, with a throw-away consumer group that commits nothing and is deleted
 * afterwards. Topics that do not exist read as empty.
 */
async function readToEnd(kafka: Kafka, topics: readonly string[], clientTag: string): Promise<RawMessage[]> {
  const ends = new Map<string, bigint>(); // `topic/partition` -> its end, for partitions holding messages
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of topics.filter((t) => existing.has(t))) {
      for (const { partition, low, high } of await topicOffsetsOnceLed(admin, topic)) {
        if (BigInt(high) > BigInt(low)) ends.set(`${topic}/${partition}`, BigInt(high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const readable = topics.filter((t) => [...ends.keys()].some((k) => k.startsWith(`${t}/`)));
  if (readable.length === 0) return [];

  const messages = new Map<string, RawMessage>(); // by place, should a rebalance deliver one twice
  const groupId = `${clientTag}-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: readable, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ topic, partition, message }) => {
        const id = `${topic}/${partition}`;
        const end = ends.get(id);
        if (end === undefined) return Promise.resolve();
        const offset = BigInt(message.offset);
        if (offset < end) {
          messages.set(`${id}/${message.offset}`, {
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: headerStrings(message.headers),
          });
        }
        // Dead-letter topics only lose their head (retention) and the bookkeeping topic is
        // compacted, which never removes a log's last record: the end is always seen.
        if (offset + 1n >= end) {
          ends.delete(id);
          if (ends.size === 0) settle();
        }
        return Promise.resolve();
      },
    });
    await done;
  } finally {
    await consumer.disconnect();
    await deleteGroup(kafka, groupId);
  }
  return [...messages.values()].sort(
    (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}

/** The reader's group committed nothing; deleting it keeps the broker's group list clean. */
async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await admin.disconnect();
}

async function redrivenIds(kafka: Kafka, topic: string, prefix: string): Promise<Set<string>> {
  const records = await readToEnd(kafka, [`${prefix}${redrivenTopicOf(topic)}`], `${prefix}dlq-inspect`);
  return new Set(records.map((r) => r.key).filter((k): k is string => k !== null));
}

async function lettersOf(kafka: Kafka, topic: string, prefix: string): Promise<DeadLetter[]> {
  const [messages, redriven] = await Promise.all([
    readToEnd(kafka, [`${prefix}${dlqTopicOf(topic)}`], `${prefix}dlq-inspect`),
    redrivenIds(kafka, topic, prefix),
  ]);
  return messages.map((m) => ({
    topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers: m.headers,
    type: m.headers[EVENT_TYPE_HEADER],
    group: m.headers[DeadLetterHeaders.consumerGroup],
    error: m.headers[DeadLetterHeaders.error],
    redriven: redriven.has(letterId(m.partition, m.offset)),
  }));
}

/** Lists what is parked in each topic's `.dlq` matching the filter, moving no consumer group. */
export async function listDeadLetters(kafka: Kafka, query: DeadLetterQuery): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const topic of query.topics) letters.push(...(await lettersOf(kafka, topic, query.prefix ?? '')));
  return letters.filter((l) => matchesFilter(l, query));
}

/**
 * Republishes the matching letters of `<topic>.dlq` not redriven before to
 * `<topic>`, each addressed to the one consumer group that parked it
 * (`dlq-redrive-for`): the other groups already handled that event and skip it.
 * Key, value and `ce_*` headers are the original ones; the `dlq-*` headers are not
 * carried over. Consumers are idempotent, so a letter whose first delivery partly
 * succeeded does no harm.
 */
export async function redriveDeadLetters(kafka: Kafka, publisher: KafkaPublisher, options: RedriveOptions): Promise<RedriveResult> {
  const prefix = options.prefix ?? '';
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    for (const t of [options.topic, dlqTopicOf(options.topic)]) {
      if (!existing.has(`${prefix}${t}`)) throw new Error(`topic ${prefix}${t} does not exist`);
    }
  } finally {
    await admin.disconnect();
  }

  const matching = (await lettersOf(kafka, options.topic, prefix)).filter((l) => matchesFilter(l, options));
  const result: RedriveResult = {
    redriven: matching.filter((l) => !l.redriven && l.group !== undefined),
    alreadyRedriven: matching.filter((l) => l.redriven),
    withoutGroup: matching.filter((l) => !l.redriven && l.group === undefined),
  };
  if (options.dryRun || result.redriven.length === 0) return result;

  await ensureRedrivenTopic(kafka, `${prefix}${redrivenTopicOf(options.topic)}`);
  const redrivenAt = new Date().toISOString();
  for (let i = 0; i < result.redriven.length; i += REDRIVE_CHUNK) {
    const chunk = result.redriven.slice(i, i + REDRIVE_CHUNK);
    // Both sends keep the chunk's order; the bookkeeping follows only once the events are acknowledged.
    await publisher.send(chunk.map((letter) => redriveMessage(letter)));
    await publisher.send(
      chunk.map((letter) => ({
        topic: redrivenTopicOf(options.topic),
        key: letterId(letter.partition, letter.offset),
        value: JSON.stringify({ group: letter.group, type: letter.type ?? null, eventId: letter.headers['ce_id'] ?? null, redrivenAt }),
        headers: {},
      })),
    );
  }
  return result;
}

/** The event a letter holds, addressed again to its topic for the one group that parked it (`dlq-*` headers dropped). */
export function redriveMessage(letter: DeadLetter): OutgoingMessage {
  const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !name.startsWith(DEAD_LETTER_HEADER_PREFIX)));
  headers[DeadLetterHeaders.redriveFor] = letter.group!;
  return { topic: letter.topic, key: letter.key ?? '', value: letter.value ?? '', headers };
}

async function ensureRedrivenTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
  } catch (error) {
    if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
  } finally {
    await admin.disconnect();
  }
}
