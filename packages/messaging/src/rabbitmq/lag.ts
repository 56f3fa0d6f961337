import { SUBSCRIPTIONS, type TopicName } from '@orderflow/contracts';
import type * as amqp from 'amqplib';
import type { PartitionLag } from '../transport';
import { closeQuietly, openChannel } from './connection';
import { partitionQueuesOf, type Naming } from './topology';

/**
 * Every group's lag on `topics` (from `SUBSCRIPTIONS`), one entry per partition
 * queue: the messages ready in it. Deliveries in flight (sent to a consumer, not
 * yet acknowledged) are not counted: `queue.declare` reports ready messages only,
 * and the management API that counts the others is a plugin we do not require.
 * Group and topic are reported without the environment's prefix; a queue that
 * does not exist (topology not set up) is left out.
 */
export async function rabbitLag(connection: amqp.ChannelModel, naming: Naming, topics: readonly TopicName[]): Promise<PartitionLag[]> {
  const lags: PartitionLag[] = [];
  let channel = await openChannel(connection);
  try {
    for (const topic of topics) {
      for (const group of SUBSCRIPTIONS[topic] ?? []) {
        for (const { queue, partition } of partitionQueuesOf(naming, group, topic)) {
          try {
            const { messageCount } = await channel.checkQueue(queue);
            lags.push({ group, topic, partition, lag: messageCount });
          } catch (error) {
            if ((error as { code?: unknown }).code !== 404) throw error;
            // A failed passive declare closes the channel.
            channel = await openChannel(connection);
          }
        }
      }
    }
  } finally {
    await closeQuietly(channel);
  }
  return lags;
}
