import type { Static } from '@sinclair/typebox';
import { createTransport, type Transport, type TransportOptions } from '@orderflow/messaging';
import type { commonConfig } from './config';

type Common = ReturnType<typeof commonConfig>;

/** The variables that choose and locate the broker, as every service declares them. */
export type BrokerConfig = { [K in 'BROKER' | 'TOPIC_PREFIX' | 'KAFKA_BROKERS' | 'KAFKA_REPLICATION_FACTOR' | 'RABBITMQ_URL' | 'SQS_ENDPOINT' | 'SQS_VISIBILITY_TIMEOUT_SECONDS' | 'AWS_REGION']: Static<Common[K]> };

/** The transport a service's configuration chooses (BROKER), for the service, its tools and its replay. */
export function transportFor(config: BrokerConfig, options: Omit<TransportOptions, 'topicPrefix'>): Transport {
  return createTransport({
    ...options,
    broker: config.BROKER,
    topicPrefix: config.TOPIC_PREFIX,
    kafkaBrokers: config.KAFKA_BROKERS,
    kafkaReplicationFactor: config.KAFKA_REPLICATION_FACTOR,
    rabbitmqUrl: config.RABBITMQ_URL,
    sqsEndpoint: config.SQS_ENDPOINT,
    awsRegion: config.AWS_REGION,
    sqsVisibilityTimeoutSeconds: config.SQS_VISIBILITY_TIMEOUT_SECONDS,
  });
}
