import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BROKER_KINDS, brokerSettingsFromEnv, createTransport, type BrokerKind, type Transport } from '@orderflow/messaging';
import { REPO_ROOT, kafka, kafkaBrokers, managesKafka } from './infrastructure';

const run = promisify(execFile);

/** The broker the tests run on: `BROKER` (kafka, rabbitmq, sqs), Kafka by default. */
export function brokerUnderTest(): BrokerKind {
  const broker = process.env['BROKER'] || 'kafka';
  if (!(BROKER_KINDS as readonly string[]).includes(broker)) throw new Error(`BROKER must be one of ${BROKER_KINDS.join(', ')} (got "${broker}")`);
  return broker as BrokerKind;
}

export const rabbitmqUrl = (): string => process.env['RABBITMQ_URL'] || 'amqp://127.0.0.1:5672';
export const sqsEndpoint = (): string => process.env['SQS_ENDPOINT'] || `http://127.0.0.1:${process.env['SQS_PORT'] ?? '9324'}`;

/** True when this project runs the broker under test itself (no address given), so tests may stop and restart it. */
export function managesBroker(): boolean {
  switch (brokerUnderTest()) {
    case 'kafka':
      return managesKafka();
    case 'rabbitmq':
      return !process.env['RABBITMQ_URL'];
    case 'sqs':
      return !process.env['SQS_ENDPOINT'];
  }
}

/**
 * What a service process needs to reach the broker under test. ElasticMQ accepts
 * any credentials; the AWS SDK still wants some, so a local endpoint gets
 * placeholders unless the environment has real ones.
 */
export function brokerEnv(): Record<string, string> {
  switch (brokerUnderTest()) {
    case 'kafka':
      return { BROKER: 'kafka', KAFKA_BROKERS: kafkaBrokers() };
    case 'rabbitmq':
      return { BROKER: 'rabbitmq', RABBITMQ_URL: rabbitmqUrl() };
    case 'sqs':
      return {
        BROKER: 'sqs',
        SQS_ENDPOINT: sqsEndpoint(),
        AWS_REGION: process.env['AWS_REGION'] || 'us-east-1',
        AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] || 'orderflow-local',
        AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] || 'orderflow-local',
      };
  }
}

/** A transport to the broker under test, under a test's prefix: for checks and for publishing what a test needs. */
export function testTransport(topicPrefix: string, clientId: string): Transport {
  const env = { ...process.env, ...brokerEnv() };
  // The SDK reads credentials from the process environment, not from the settings.
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) if (env[name] && !process.env[name]) process.env[name] = env[name];
  return createTransport(brokerSettingsFromEnv(env, { clientId, topicPrefix }));
}

const SCRIPTS: Record<Exclude<BrokerKind, 'kafka'>, string> = {
  rabbitmq: join(REPO_ROOT, 'infra/rabbitmq/rabbitmq.sh'),
  sqs: join(REPO_ROOT, 'infra/elasticmq/elasticmq.sh'),
};

/** Starts or stops the broker under test with its script (only one this project runs: see `managesBroker`). */
export async function brokerControl(command: 'start' | 'stop'): Promise<void> {
  const broker = brokerUnderTest();
  if (broker === 'kafka') {
    await kafka(command);
    return;
  }
  await run('bash', [SCRIPTS[broker], command], { maxBuffer: 10 * 1024 * 1024 });
}

/** Starts the broker under test if this project runs it and it is not up. */
export async function ensureBroker(): Promise<void> {
  if (managesBroker()) await brokerControl('start');
}
