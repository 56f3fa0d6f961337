import { randomUUID } from 'node:crypto';
import { dlqTopicOf } from '@orderflow/contracts';
import type { Kafka } from 'kafkajs';
import { headerStrings } from './headers';
import type { KafkaPublisher } from './publisher';

export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads a dead-letter topic from `fromGroup`'s committed position (or the start)
 * up to its end at the time of the call, handing each message to `visit`. With
 * `commit`, the group's position moves past what was visited.
 */
async function readToEnd(
  kafka: Kafka,
  topic: string,
  groupId: string,
  commit: boolean,
  visit: (letter: DeadLetter) => void | Promise<void>,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  const start = new Map(committed[0]?.partitions.map((p) => [p.partition, BigInt(p.offset)]) ?? []);
  const remaining = new Set([...ends].filter(([p, end]) => (start.get(p) ?? -1n) < end && end > 0n).map(([p]) => p));
  if (remaining.size === 0) return 0;

  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
  let count = 0;
  let failure: Error | undefined;
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (!remaining.has(partition)) return;
      const end = ends.get(partition)!;
      if (BigInt(message.offset) < end) {
        try {
          await visit({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: headerStrings(message.headers),
          });
        } catch (error) {
          failure = error instanceof Error ? error : new Error(String(error));
          settle();
          throw error;
        }
        count++;
        if (commit) await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      }
      if (BigInt(message.offset) + 1n >= end) {
        remaining.delete(partition);
        if (remaining.size === 0) settle();
      }
    },
  });
  await done;
  await consumer.disconnect();
  if (failure) throw failure;
  return count;
}

/** Lists what is parked in `<topic>.dlq` without moving any consumer group. */
export async function listDeadLetters(kafka: Kafka, topic: string, prefix = ''): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await readToEnd(kafka, `${prefix}${dlqTopicOf(topic)}`, `${prefix}dlq-inspect-${randomUUID()}`, false, (l) => {
    letters.push(l);
  });
  return letters;
}

/**
 * Publishes every dead letter not yet redriven back to its original topic, with
 * its original headers, and remembers how far it got (consumer group
 * `<prefix>dlq-redrive`), so each one is redriven once. Consumers are idempotent,
 * so a letter whose first delivery partly succeeded does no harm.
 */
export async function redriveDeadLetters(kafka: Kafka, publisher: KafkaPublisher, topic: string, prefix = ''): Promise<number> {
  return readToEnd(kafka, `${prefix}${dlqTopicOf(topic)}`, `${prefix}dlq-redrive`, true, async (letter) => {
    const headers = Object.fromEntries(Object.entries(letter.headers).filter(([k]) => !k.startsWith('dlq-')));
    await publisher.send([{ topic, key: letter.key ?? '', value: letter.value ?? '', headers }]);
  });
}
