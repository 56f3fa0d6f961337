import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PartitionLag } from '../transport';
import { isTopic, type QueueUrls, type SqsTopology } from './topology';

/**
 * Each group's lag on each topic: the messages in its queue, waiting or in flight
 * (SQS's approximate counts). A queue is one "partition"; groups and topics are
 * reported without the environment's prefix. A topic outside the contracts has no
 * queues, and a queue that does not exist is left out.
 */
export async function queueLag(client: SQSClient, urls: QueueUrls, topology: SqsTopology, topics: readonly string[]): Promise<PartitionLag[]> {
  const known = topics.filter(isTopic);
  const queues = known.flatMap((topic) => topology.groupsOf(topic).map((group) => ({ group, topic })));
  const lags = await Promise.all(
    queues.map(async ({ group, topic }): Promise<PartitionLag | undefined> => {
      const url = await urls.find(topology.groupQueue(group, topic));
      if (url === undefined) return undefined;
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      const lag = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      return { group, topic, partition: 0, lag };
    }),
  );
  return lags.filter((l): l is PartitionLag => l !== undefined);
}
