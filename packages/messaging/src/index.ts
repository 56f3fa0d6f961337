export { createKafka, parseBrokers, type KafkaConnectionOptions, type LogFields, type MessagingLogger } from './kafka';
export { KafkaPublisher, type OutgoingMessage, type KafkaPublisherOptions, type PartitionedSendReport } from './publisher';
export { EventConsumer } from './consumer';
export {
  BatchFailure,
  BatchProcessor,
  ConsumerStopping,
  consumerSettings,
  type ConsumerSettings,
  type DeadLetterSink,
  type EventConsumerOptions,
  type DeliveryInfo,
  type Item,
  type Lease,
  type RawMessage,
  type ReceivedEvent,
  type ProcessOutcome,
} from './batch-processor';
export { BROKER_KINDS, type BrokerKind, type Publisher, type Subscriber, type Transport, type TransportOptions } from './transport';
export { KafkaTransport, type KafkaTransportOptions } from './kafka-transport';
// Types only: the broker clients are loaded by createTransport when chosen (the AWS SDK alone is ~15 MB of a process).
export type { RabbitMqTransport, RabbitMqTransportOptions } from './rabbitmq/transport';
export type { SqsTransport, SqsTransportOptions } from './sqs/transport';
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
export { consumerLag } from './consumer-lag';
export { topicOffsetsOnceLed } from './topic-offsets';
export type { PartitionLag } from './transport';
export { createTransport, brokerSettingsFromEnv, type BrokerSettings } from './create-transport';
