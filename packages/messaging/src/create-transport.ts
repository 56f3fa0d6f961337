import { KafkaTransport } from './kafka-transport';
import type * as RabbitMqModule from './rabbitmq/transport';
import type * as SqsModule from './sqs/transport';
import { BROKER_KINDS, type BrokerKind, type Transport, type TransportOptions } from './transport';

const isBrokerKind = (value: string): value is BrokerKind => (BROKER_KINDS as readonly string[]).includes(value);

/** Where each broker is, as the services' configuration (and the tests' environment) says. */
export interface BrokerSettings extends TransportOptions {
  broker: BrokerKind;
  /** BROKER=kafka: KAFKA_BROKERS. */
  kafkaBrokers: string;
  kafkaReplicationFactor?: number;
  /** BROKER=rabbitmq: RABBITMQ_URL. */
  rabbitmqUrl: string;
  /** BROKER=sqs: SQS_ENDPOINT, empty for AWS. */
  sqsEndpoint: string;
  /** BROKER=sqs: AWS_REGION. */
  awsRegion: string;
  /** BROKER=sqs: SQS_VISIBILITY_TIMEOUT_SECONDS (default 30). */
  sqsVisibilityTimeoutSeconds?: number;
}

/** The transport the settings choose; the only place that knows every broker. */
export function createTransport(settings: BrokerSettings): Transport {
  const { broker, topicPrefix, clientId, logger, onRequest } = settings;
  const common: TransportOptions = { clientId, ...(topicPrefix ? { topicPrefix } : {}), ...(logger ? { logger } : {}), ...(onRequest ? { onRequest } : {}) };
  switch (broker) {
    case 'kafka':
      return new KafkaTransport({ ...common, brokers: settings.kafkaBrokers, replicationFactor: settings.kafkaReplicationFactor ?? 1 });
    case 'rabbitmq': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { RabbitMqTransport } = require('./rabbitmq/transport') as typeof RabbitMqModule;
      return new RabbitMqTransport({ ...common, url: settings.rabbitmqUrl });
    }
    case 'sqs': {
      // Loaded only when chosen: a service on another broker never pays for the AWS SDK.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { SqsTransport } = require('./sqs/transport') as typeof SqsModule;
      return new SqsTransport({
        ...common,
        endpoint: settings.sqsEndpoint,
        region: settings.awsRegion,
        ...(settings.sqsVisibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds: settings.sqsVisibilityTimeoutSeconds } : {}),
      });
    }
    default:
      throw new Error(`BROKER=${broker as string} is not available in this build`);
  }
}

/** The settings from environment variables, with the services' defaults: for tools and tests outside a service. */
export function brokerSettingsFromEnv(env: NodeJS.ProcessEnv, options: TransportOptions): BrokerSettings {
  const broker = env['BROKER'] || 'kafka';
  if (!isBrokerKind(broker)) throw new Error(`BROKER must be one of ${BROKER_KINDS.join(', ')} (got "${broker}")`);
  return {
    ...options,
    broker,
    kafkaBrokers: env['KAFKA_BROKERS'] || '127.0.0.1:9092',
    rabbitmqUrl: env['RABBITMQ_URL'] || 'amqp://127.0.0.1:5672',
    sqsEndpoint: env['SQS_ENDPOINT'] ?? '',
    awsRegion: env['AWS_REGION'] || 'us-east-1',
    ...(env['SQS_VISIBILITY_TIMEOUT_SECONDS'] ? { sqsVisibilityTimeoutSeconds: Number(env['SQS_VISIBILITY_TIMEOUT_SECONDS']) } : {}),
  };
}
