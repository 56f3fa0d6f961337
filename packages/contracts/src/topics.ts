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

