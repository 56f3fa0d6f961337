export { createKafka, parseBrokers, type KafkaConnectionOptions, type LogFields, type MessagingLogger } from './kafka';
export { KafkaPublisher, type OutgoingMessage, type KafkaPublisherOptions, type PartitionedSendReport } from './publisher';
export { EventConsumer, BatchFailure, type EventConsumerOptions, type DeliveryInfo, type ReceivedEvent, type ProcessOutcome } from './consumer';
export { ensureTopics, orderflowTopics, brokerReachable, type TopicSpec } from './topics-admin';
export {
  RetriableError,
  BrokerUnavailableError,
  BrokerRefusedError,
  isMarkedRetriable,
  isTransientKafkaError,
  toBrokerError,
  type BrokerError,
  type ErrorClassifier,
} from './errors';
export type { Kafka } from 'kafkajs';
export {
  listDeadLetters,
  redriveDeadLetters,
  redrivenTopicOf,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterQuery,
  type RedriveOptions,
  type RedriveResult,
} from './dead-letters';
export { DeadLetterHeaders } from './headers';
export { runDlqCommand, DLQ_USAGE, type DlqCommandContext } from './dlq-command';
export { consumerLag, type PartitionLag } from './consumer-lag';
