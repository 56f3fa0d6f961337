export { createKafka, parseBrokers, type KafkaConnectionOptions, type MessagingLogger } from './kafka';
export { KafkaPublisher, type OutgoingMessage } from './publisher';
export { EventConsumer, type EventConsumerOptions, type DeliveryInfo, type ProcessOutcome } from './consumer';
export { ensureTopics, orderflowTopics, brokerReachable, type TopicSpec } from './topics-admin';
export { RetriableError, isMarkedRetriable, isTransientKafkaError, type ErrorClassifier } from './errors';
export type { Kafka } from 'kafkajs';
export { listDeadLetters, redriveDeadLetters, type DeadLetter } from './dead-letters';
