/** One topic per producing domain; every message is keyed so one order's events stay ordered. */
export const Topics = {
  orders: 'orders.events',
  payments: 'payments.events',
  inventory: 'inventory.events',
  products: 'inventory.products',
  shipping: 'shipping.events',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly TopicName[] = Object.values(Topics);

/** Partitions per topic: at least 3 so a consumer group can scale out to 3 instances. */
export const TOPIC_PARTITIONS = 3;

export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;


/**
 * Which consumer groups (one per service) read each topic. Kafka keeps a topic for
 * any group that joins later; RabbitMQ and SQS deliver only to queues that exist
 * when a message is published, so every service declares every group's queues at
 * start-up from this table, and a service refuses to start if it consumes a topic
 * that this table does not give its group.
 */
export const SUBSCRIPTIONS: Readonly<Record<TopicName, readonly string[]>> = {
  [Topics.orders]: ['payment', 'inventory', 'shipping'],
  [Topics.payments]: ['orders'],
  [Topics.inventory]: ['orders'],
  [Topics.products]: ['orders'],
  [Topics.shipping]: ['orders'],
};

/** The topics a consumer group reads according to `SUBSCRIPTIONS`. */
export const topicsOfGroup = (group: string): TopicName[] => ALL_TOPICS.filter((t) => SUBSCRIPTIONS[t].includes(group));
