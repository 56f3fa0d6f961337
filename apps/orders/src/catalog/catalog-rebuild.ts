import { randomBytes } from 'node:crypto';
import { decodeEvent, InvalidEventError, type AnyEvent } from '@orderflow/contracts';
import type { Kafka } from '@orderflow/messaging';
import type { DataSource } from 'typeorm';
import { Product } from './product.entity';
import { projectProductEvent } from './product.projection';

export interface CatalogRebuildResult {
  /** Messages read from the topic, up to its end when the rebuild began. */
  messages: number;
  /** Rows in `products` afterwards. */
  products: number;
  /** Messages that are not catalog events or fail their contract: the live consumer dead-letters those. */
  skipped: number;
}

/**
 * Rebuilds the `products` table from scratch out of `inventory.products`, read
 * from its beginning to its end, with the projection the live consumer uses. The
 * topic is compacted and every StockLevelChanged carries the product's full
 * state, so whatever Kafka kept is the whole catalog.
 *
 * One transaction: the table is locked before the end offsets are read, so a
 * message the live consumer applies after them waits for this commit and lands
 * on top of it, and one it applied before is inside the range read here; readers
 * keep seeing the old rows until the new ones commit.
 */
export async function rebuildCatalog(dataSource: DataSource, kafka: Kafka, topic: string): Promise<CatalogRebuildResult> {
  return dataSource.transaction(async (tx) => {
    await tx.query('LOCK TABLE products IN EXCLUSIVE MODE');
    const partitions = await readTopicToEnd(kafka, topic);
    await tx.query('DELETE FROM products');
    let messages = 0;
    let skipped = 0;
    // Per partition in offset order: the events of one sku share a partition, and their order is what counts.
    for (const events of partitions) {
      for (const event of events) {
        messages++;
        if (event === undefined || (event.type !== 'ProductCatalogued' && event.type !== 'StockLevelChanged')) {
          skipped++;
          continue;
        }
        await projectProductEvent(tx, event);
      }
    }
    const products = await tx.getRepository(Product).count();
    return { messages, products, skipped };
  });
}

/**
 * Every message of `topic` from its beginning up to its end as of now, decoded
 * (undefined where the message breaks the contract), one list per partition in
 * offset order. Reads with a throw-away consumer group, deleted afterwards.
 */
export async function readTopicToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<(AnyEvent | undefined)[][]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `${topic}.rebuild-${randomBytes(4).toString('hex')}`;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const byPartition = new Map<number, (AnyEvent | undefined)[]>(ends.map((p) => [p.partition, []]));
    // A compacted log has gaps in its offsets, but its last offset (high - 1) is never compacted away.
    const pending = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]));
    if (pending.size > 0) {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
      await consumer.connect();
      try {
        let done!: () => void;
        const finished = new Promise<void>((resolve) => (done = resolve));
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs wants a promise; collecting is synchronous
          eachMessage: async ({ partition, message }) => {
            const last = pending.get(partition);
            if (last === undefined || BigInt(message.offset) > last) return;
            byPartition.get(partition)!.push(decodeOrUndefined(message));
            if (BigInt(message.offset) === last) {
              pending.delete(partition);
              if (pending.size === 0) done();
            }
          },
        });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms reading ${topic} to its end`)), timeoutMs);
        });
        try {
          await Promise.race([finished, timedOut]);
        } finally {
          clearTimeout(timer);
        }
      } finally {
        await consumer.disconnect();
      }
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([, events]) => events);
  } finally {
    await admin.disconnect();
  }
}

function decodeOrUndefined(message: {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, unknown>;
}): AnyEvent | undefined {
  const headers = Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([k, v]) => [k, v === undefined ? undefined : String(Array.isArray(v) ? v[0] : v)]),
  );
  try {
    return decodeEvent({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
  } catch (error) {
    if (error instanceof InvalidEventError) return undefined;
    throw error;
  }
}
