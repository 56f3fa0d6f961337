import 'reflect-metadata';
import { Logger, Module, type DynamicModule, type INestApplication, type LogLevel, type Type as NestType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TObject, Static } from '@sinclair/typebox';
import { OutboxRelay, eventStoreMigrations, openDatabase, type ProjectionRebuild } from '@orderflow/eventstore';
import type { Publisher, Transport } from '@orderflow/messaging';
import { transportFor } from './broker';
import type { DataSource } from 'typeorm';
import { topicsOfGroup, type AnyEvent } from '@orderflow/contracts';
import { BrokerProbe } from './broker-probe';
import { ConfigError, configVariables, loadConfig, type commonConfig } from './config';
import { BrokerEventTransport } from './event-transport';
import { HttpErrorsFilter } from './http-errors.filter';
import { Metrics } from './metrics';
import { ServiceLogger } from './service-logger';
import { httpObservability } from './http-observability';
import { tracedPublish } from './traced-publish';
import { startTracing, stopTracing, tracingEnabled } from './tracing';
import { ServiceKitModule, type Infrastructure } from './service-kit.module';

type CommonEnv = { [K in keyof ReturnType<typeof commonConfig>]: Static<ReturnType<typeof commonConfig>[K]> };

/**
 * A read model built from another service's topic rather than from this service's
 * own log: rebuilt by reading that topic whole, through the transport (TOPIC_PREFIX
 * applied by the caller through `topicPrefix`). Returns a line for the report.
 */
export interface TopicRebuild {
  table: string;
  /**
   * The brokers that keep the topic's history for a reader that comes later (a
   * compacted Kafka topic). On any other the table cannot be rebuilt from the broker:
   * replay leaves it as it is and says so. Default: every broker.
   */
  rebuildableOn?: readonly Transport['kind'][];
  rebuild: (dataSource: DataSource, transport: Transport, topicPrefix: string) => Promise<string>;
}

/**
 * Everything about one service, written once in its `service.ts` and read by the
 * service (`main`), its replay command (`replayCommand`, which ignores the HTTP and
 * Nest parts) and its tools.
 */
export interface ServiceDescription<Config extends TObject = TObject> {
  /** Short name: `orders`, `payment`, … Used for the database, the consumer group and logs. */
  name: string;
  /** Its own type, for a tool that loads the configuration outside the service kit (inventory's seed). */
  configSchema: Config;
  /** Rules across variables that the schema cannot state; throws a ConfigError naming them, checked at boot with the schema. */
  checkConfig?(config: Static<Config>): void;
  /** Own migrations and entities; the event store's are added by `databaseSchema`. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  /** The topics this service publishes to: its metrics show every group's lag on them. */
  produces: readonly string[];
  /** The topics this service consumes; its `@EventPattern` handlers pick the event types. */
  consumes: readonly string[];
  /** The streams its handlers read whole for an event, so a batch reads them in one query. */
  streamsOf?: (event: AnyEvent) => readonly string[];
  /** The streams of which its handlers read only the newest event (whole-state aggregates), read in the same query. */
  lastEventsOf?: (event: AnyEvent) => readonly string[];
  /** Events that handling records in a stream with their own id, so they need no inbox row (see `BrokerEventTransportOptions.recordedIn`). */
  recordedIn?: (event: AnyEvent) => string | undefined;
  /**
   * Units of work its consumer runs at once, each over the partitions with one
   * number modulo this (Kafka; see `EventConsumerOptions.lanes`). Only for a
   * service whose streams and rows are all keyed like the messages it consumes,
   * so two lanes never write the same one. Default 1.
   */
  consumerLanes?: number;
  /** The read models of its own event log, rebuilt by replay. */
  projections: ProjectionRebuild[];
  /** The read models built from other services' topics, rebuilt by replay after the projections. */
  topicRebuilds?: TopicRebuild[];
  feature: NestType | DynamicModule;
  /** Extra HTTP set-up such as OpenAPI. */
  configureHttp?: (app: INestApplication) => void;
}

/** The migrations (the event store's first) and entities of a service's database, for anything that opens it. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function databaseSchema(service: ServiceDescription): { migrations: Function[]; entities: Function[] } {
  return { migrations: [...eventStoreMigrations, ...service.migrations], entities: service.entities };
}

const LEVELS: Record<string, LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * Boots one service: validated config, database and migrations, topics, outbox
 * relay, the event consumer and the HTTP server; and shuts it down in the order
 * that loses nothing on SIGTERM.
 */
export async function runService(definition: ServiceDescription): Promise<void> {
  const log = new Logger(definition.name);
  let config: CommonEnv;
  try {
    const loaded = loadConfig(definition.configSchema);
    definition.checkConfig?.(loaded);
    checkSubscriptions(definition);
    config = loaded as CommonEnv;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${definition.name}: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const format = config.LOG_FORMAT === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : config.LOG_FORMAT;
  const logger = new ServiceLogger(definition.name, format, LEVELS[config.LOG_LEVEL] ?? LEVELS['log']!);
  Logger.overrideLogger(logger);
  routeProcessWarnings(logger);
  // Before the database opens: the pg instrumentation patches the driver's client.
  await startTracing(config);

  const dataSource = await openDatabase({
    url: config.DATABASE_URL,
    database: config.DATABASE_NAME,
    ...databaseSchema(definition),
    poolSize: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    keepAliveInitialDelayMs: config.DATABASE_KEEPALIVE_INITIAL_DELAY_MS,
  }).catch((error: Error) => {
    throw new StartupError(`cannot open database ${config.DATABASE_NAME} at ${redact(config.DATABASE_URL)} (DATABASE_URL): ${error.message}`);
  });
  const metrics: Metrics = new Metrics(definition.name, {
    outbox: () => relay.backlog(),
    consumerLag: () => transport.lag(definition.produces),
  });
  const transport = brokerTransport(definition.name, config, metrics);
  const created = await transport.setUp().catch((error: Error) => {
    throw new StartupError(`cannot reach ${transport.description} (${transport.addressVariable}): ${error.message}`);
  });
  if (created.length) log.log(`created ${created.join(', ')}`);
  const publisher = transport.publisher();
  const relay: OutboxRelay = new OutboxRelay(dataSource, {
    publish: tracingEnabled() ? tracedPublish((messages) => publisher.sendByPartition(messages), transport.kind) : (messages) => publisher.sendByPartition(messages),
    logger: new Logger('outbox'),
    onPublished: (n) => metrics.eventsPublished.inc(n),
    onParked: () => metrics.outboxParked.inc(),
  });
  const infra: Infrastructure = {
    config,
    dataSource,
    relay,
    broker: new BrokerProbe(transport),
    metrics,
  };

  @Module({ imports: [ServiceKitModule.forRoot(infra), definition.feature] })
  class ServiceModule {}

  const app = await NestFactory.create(ServiceModule, { bufferLogs: false, logger });
  app.use(httpObservability(metrics));
  app.useGlobalFilters(new HttpErrorsFilter());
  definition.configureHttp?.(app);
  if (definition.consumes.length > 0) {
    app.connectMicroservice({
      strategy: new BrokerEventTransport({
        transport,
        dataSource,
        metrics,
        groupId: definition.name,
        logEvents: config.LOG_LEVEL === 'debug',
        topics: definition.consumes,
        ...(definition.streamsOf ? { streamsOf: definition.streamsOf } : {}),
        ...(definition.lastEventsOf ? { lastEventsOf: definition.lastEventsOf } : {}),
        ...(definition.recordedIn ? { recordedIn: definition.recordedIn } : {}),
        ...(definition.consumerLanes !== undefined ? { lanes: definition.consumerLanes } : {}),
      }),
    });
    await app.startAllMicroservices();
  }
  relay.start();
  await app.listen(config.PORT, '0.0.0.0');
  log.log(`listening on :${config.PORT} (database ${config.DATABASE_NAME}, ${transport.description})`);
  installShutdown(definition.name, config.SHUTDOWN_GRACE_MS, app, relay, publisher, dataSource, () => transport.close());
}

function installShutdown(
  name: string,
  graceMs: number,
  app: INestApplication,
  relay: OutboxRelay,
  publisher: Publisher,
  dataSource: DataSource,
  closeTransport: () => Promise<void>,
): void {
  const log = new Logger(name);
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    setTimeout(() => {
      log.error(`shutdown took longer than ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs).unref();
    log.log(`${signal}: stopping (HTTP, consumer, outbox relay)`);
    try {
      // Closing the app stops HTTP and the consumer: in-flight events finish and
      // their offsets are committed before the consumer leaves its group.
      await app.close();
      await relay.stop();
      await relay.drain().catch((error: Error) => log.warn(`events left in the outbox for next start: ${error.message}`));
      await publisher.disconnect();
      await closeTransport().catch(() => undefined);
      await dataSource.destroy();
      await stopTracing().catch((error: Error) => log.warn(`spans not exported: ${error.message}`));
      log.log('stopped cleanly');
      process.exit(0);
    } catch (error) {
      log.error(`unclean shutdown: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * The queue-based brokers deliver a topic only to the groups the contracts'
 * SUBSCRIPTIONS name (their queues are declared from it): a service consuming a
 * topic that the table does not give it would wait forever for nothing.
 */
function checkSubscriptions(definition: ServiceDescription): void {
  const granted = topicsOfGroup(definition.name);
  const missing = definition.consumes.filter((t) => !granted.includes(t as (typeof granted)[number]));
  if (missing.length > 0) {
    throw new ConfigError(`consumes ${missing.join(', ')}, which SUBSCRIPTIONS in @orderflow/contracts does not give the group "${definition.name}": add it there`);
  }
}

/** The broker the configuration chooses, its requests counted in the service's metrics. */
function brokerTransport(name: string, config: CommonEnv, metrics: Metrics): Transport {
  return transportFor(config, {
    clientId: `orderflow-${name}`,
    logger: new Logger(config.BROKER),
    onRequest: (client, api) => metrics.brokerRequests.inc({ client, api }),
  });
}

/**
 * Node prints process warnings (a library's deprecation or support notice, such as
 * the AWS SDK's about Node versions) as raw lines on stderr, which would break a log
 * that is one JSON object a line: they go through the service's logger instead.
 */
function routeProcessWarnings(logger: ServiceLogger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn(`${warning.name}: ${warning.message.replace(/\s+/g, ' ').trim()}`, 'node'));
}

/** A start-up failure whose message says everything: printed without a stack trace. */
class StartupError extends Error {
  override readonly name = 'StartupError';
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Entry point helper: boot failures print one clear line and exit non-zero. */
export function main(definition: ServiceDescription): void {
  // `--print-config`: the environment variables this service reads, as JSON, for
  // docs and for tests that hold deployment files to the schema.
  if (process.argv.includes('--print-config')) {
    process.stdout.write(`${JSON.stringify(configVariables(definition.configSchema), null, 2)}\n`);
    return;
  }
  runService(definition).catch((error: Error) => {
    const detail = error instanceof StartupError ? error.message : (error.stack ?? error.message);
    process.stderr.write(`${definition.name}: failed to start: ${detail}\n`);
    process.exit(1);
  });
}
