import { ALL_TOPICS, SUBSCRIPTIONS, dlqTopicOf } from '@orderflow/contracts';
import type * as amqp from 'amqplib';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { openChannel, closeQuietly } from './connection';

/**
 * Names on the broker. A topic is a direct exchange; each consumer group reads it
 * through `partitions` quorum queues, one per routing key `"0"…"N-1"`; a topic's
 * dead letters go through a fanout exchange `<topic>.dlq` to one queue of the same
 * name. Publishing to topic `<topic>.dlq` (what the consumer does to park a poison
 * event) therefore needs nothing special.
 *
 * Why partition queues with single active consumer rather than the
 * consistent-hash exchange: it needs no plugin, the key → partition mapping is
 * deterministic and the same as Kafka's (murmur2, so a key lands on the same
 * partition number on both brokers), and it adds no weights or rebinding that
 * would move keys between queues while a group scales. Each partition queue has
 * one active consumer at a time and the others take over when it goes, so one
 * key's events are handled in order by one instance. Limitation on RabbitMQ 3.10:
 * single active consumer activates the first consumer registered on a queue, and
 * every instance registers on every partition queue, so the first instance of a
 * group is active on all partitions and later ones are hot standbys rather than
 * sharing the partitions as Kafka's group rebalancing would.
 */
export interface Naming {
  prefix: string;
  partitions: number;
}

export const exchangeOf = ({ prefix }: Naming, topic: string): string => `${prefix}${topic}`;
export const dlqQueueOf = ({ prefix }: Naming, topic: string): string => `${prefix}${dlqTopicOf(topic)}`;
export const partitionQueueOf = ({ prefix }: Naming, group: string, topic: string, partition: number): string => `${prefix}${group}.${topic}.${partition}`;
export const isDeadLetterTopic = (topic: string): boolean => topic.endsWith(dlqTopicOf(''));

/** Every partition queue of a group on `topic`. */
export function partitionQueuesOf(naming: Naming, group: string, topic: string): { queue: string; partition: number }[] {
  return Array.from({ length: naming.partitions }, (_, partition) => ({ queue: partitionQueueOf(naming, group, topic, partition), partition }));
}

const kafkaPartitioner = Partitioners.DefaultPartitioner();
const partitionMetadata = new Map<number, PartitionMetadata[]>();

/** The partition Kafka's default (murmur2) partitioner gives `key` among `partitions`. */
export function partitionOfKey(key: string, partitions: number): number {
  let metadata = partitionMetadata.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    partitionMetadata.set(partitions, metadata);
  }
  return kafkaPartitioner({ topic: '', partitionMetadata: metadata, message: { key, value: null } });
}

/** The routing key a message of `topic` with `key` is published with. */
export const routingKeyOf = (naming: Naming, topic: string, key: string): string => (isDeadLetterTopic(topic) ? '' : String(partitionOfKey(key, naming.partitions)));

const QUORUM = { 'x-queue-type': 'quorum' } as const;

interface Declaration {
  kind: 'exchange' | 'queue';
  name: string;
  declare(channel: amqp.Channel): Promise<unknown>;
  arguments: Record<string, unknown>;
}

function declarations(naming: Naming): Declaration[] {
  const out: Declaration[] = [];
  const exchange = (name: string, type: 'direct' | 'fanout'): void => {
    out.push({ kind: 'exchange', name, arguments: { type }, declare: (ch) => ch.assertExchange(name, type, { durable: true }) });
  };
  const queue = (name: string, args: Record<string, unknown>, bind: { exchange: string; key: string }): void => {
    out.push({
      kind: 'queue',
      name,
      arguments: args,
      declare: async (ch) => {
        await ch.assertQueue(name, { durable: true, arguments: args });
        await ch.bindQueue(name, bind.exchange, bind.key);
      },
    });
  };
  for (const topic of ALL_TOPICS) {
    const dlq = exchangeOf(naming, dlqTopicOf(topic));
    exchange(exchangeOf(naming, topic), 'direct');
    exchange(dlq, 'fanout');
    queue(dlqQueueOf(naming, topic), QUORUM, { exchange: dlq, key: '' });
    for (const group of SUBSCRIPTIONS[topic]) {
      for (const { queue: name, partition } of partitionQueuesOf(naming, group, topic)) {
        // The dead-letter exchange is a backstop: the consumer never rejects, it parks poison itself.
        queue(name, { ...QUORUM, 'x-single-active-consumer': true, 'x-dead-letter-exchange': dlq }, { exchange: exchangeOf(naming, topic), key: String(partition) });
      }
    }
  }
  return out;
}

/** Names of the exchanges and queues `declareTopology` declares, for tests and tools that remove an environment. */
export function topologyNames(naming: Naming): { exchanges: string[]; queues: string[] } {
  const all = declarations(naming);
  return { exchanges: all.filter((d) => d.kind === 'exchange').map((d) => d.name), queues: all.filter((d) => d.kind === 'queue').map((d) => d.name) };
}

/**
 * Declares every exchange, queue and binding (idempotent) and returns the names it
 * created. A queue or exchange that exists with other arguments makes RabbitMQ
 * close the channel with PRECONDITION_FAILED; that is reported with the name and
 * both sides rather than silently keeping the old shape.
 */
export async function declareTopology(connection: amqp.ChannelModel, naming: Naming): Promise<string[]> {
  const created: string[] = [];
  let probe = await openChannel(connection);
  const channel = await openChannel(connection);
  try {
    for (const declaration of declarations(naming)) {
      // A passive check closes its channel when the name is missing: a throw-away channel for that.
      try {
        if (declaration.kind === 'queue') await probe.checkQueue(declaration.name);
        else await probe.checkExchange(declaration.name);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 404) throw error;
        created.push(declaration.name);
        probe = await openChannel(connection);
      }
      try {
        await declaration.declare(channel);
      } catch (error) {
        if ((error as { code?: unknown }).code === 406) {
          throw new Error(
            `RabbitMQ ${declaration.kind} '${declaration.name}' exists with other settings than Orderflow declares (${JSON.stringify(declaration.arguments)}): ${(error as Error).message}. Delete it (drain its messages first) or give this environment another topic prefix.`,
            { cause: error },
          );
        }
        throw error;
      }
    }
  } finally {
    await closeQuietly(probe);
    await closeQuietly(channel);
  }
  return created;
}
