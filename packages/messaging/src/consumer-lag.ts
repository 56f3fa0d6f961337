import type { Admin } from 'kafkajs';
import { topicOffsetsOnceLed } from './topic-offsets';
import type { PartitionLag } from './transport';

/**
 * The lag of every consumer group of this environment on `topics`, partition by
 * partition, read from the broker: what the groups committed against each
 * partition's high watermark. It is measured from outside the consumers, so a
 * stopped consumer's lag still shows (its group keeps its committed offsets). A
 * group that never committed on a topic does not consume it and is left out,
 * unless `expected` says it reads that topic (it has simply not started yet).
 *
 * `groupPrefix` is TOPIC_PREFIX: the groups of this environment are
 * `<prefix><service>`; the groups of other environments on the same cluster
 * (another prefix) are not ours to report.
 */
export async function consumerLag(
  admin: Admin,
  topics: readonly string[],
  groupPrefix: string,
  /** Groups (prefixed) that read a topic (prefixed) whether or not they committed yet: their lag counts from the start. */
  expected: ReadonlyMap<string, readonly string[]> = new Map(),
): Promise<PartitionLag[]> {
  const { groups } = await admin.listGroups();
  const listed = groups
    .map((g) => g.groupId)
    .filter((id) => id.startsWith(groupPrefix) && id.length > groupPrefix.length && !id.slice(groupPrefix.length).includes('.'));
  const ours = [...new Set([...listed, ...topics.flatMap((t) => expected.get(t) ?? [])])].sort();
  const ends = new Map<string, Map<number, { high: bigint; low: bigint }>>();
  for (const topic of topics) {
    const partitions = await topicOffsetsOnceLed(admin, topic);
    ends.set(topic, new Map(partitions.map((p) => [p.partition, { high: BigInt(p.high), low: BigInt(p.low) }])));
  }
  const lags: PartitionLag[] = [];
  for (const group of ours) {
    const committed = await admin.fetchOffsets({ groupId: group, topics: [...topics] });
    for (const { topic, partitions } of committed) {
      if (partitions.every((p) => p.offset === '-1') && !expected.get(topic)?.includes(group)) continue;
      for (const { partition, offset } of partitions) {
        const end = ends.get(topic)?.get(partition);
        if (!end) continue;
        // No commit yet on this partition: the group will start at its beginning.
        const position = offset === '-1' ? end.low : BigInt(offset);
        lags.push({ group, topic, partition, lag: Number(end.high > position ? end.high - position : 0n) });
      }
    }
  }
  return lags;
}
