import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { compileValidator } from '@orderflow/contracts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The variables every service reads; each app adds its own in its `config.ts`. */
export function commonConfig(service: string, defaultPort: number) {
  return {
    PORT: Type.Integer({ minimum: 1, maximum: 65535, default: defaultPort, description: 'HTTP port' }),
    DATABASE_URL: Type.String({
      pattern: '^postgres(ql)?://',
      default: 'postgres://postgres@127.0.0.1:5432',
      description: 'PostgreSQL server URL, without the database name',
    }),
    DATABASE_NAME: Type.String({
      pattern: '^[a-z_][a-z0-9_]{0,62}$',
      default: `orderflow_${service}`,
      description: 'this service’s own database; created if missing',
    }),
    DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'connections in this process’s pool' }),
    DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      default: 30_000,
      description: 'PostgreSQL cancels a statement running longer (statement_timeout); 0 disables',
    }),
    DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      default: 5_000,
      description: 'waiting for a new connection, or a free one from a full pool, fails after this (retried)',
    }),
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      default: 60_000,
      description: 'PostgreSQL ends a session idle inside a transaction this long; 0 disables',
    }),
    DATABASE_KEEPALIVE_INITIAL_DELAY_MS: Type.Integer({
      minimum: 0,
      default: 10_000,
      description: 'TCP keepalive probes on database connections start after this much idle time',
    }),
    BROKER: Type.Union([Type.Literal('kafka'), Type.Literal('rabbitmq'), Type.Literal('sqs')], {
      default: 'kafka',
      description: 'the message broker: kafka, rabbitmq or sqs (each reads its own variables below)',
    }),
    TOPIC_PREFIX: Type.String({
      pattern: '^[A-Za-z0-9._-]*$',
      default: '',
      description: 'prefix for every topic, queue, exchange and consumer group, to run isolated environments on one broker',
    }),
    KAFKA_BROKERS: Type.String({ minLength: 1, default: '127.0.0.1:9092', description: 'BROKER=kafka: comma-separated host:port list' }),
    KAFKA_REPLICATION_FACTOR: Type.Integer({ minimum: 1, default: 1, description: 'BROKER=kafka: for topics this service creates' }),
    RABBITMQ_URL: Type.String({
      pattern: '^amqps?://',
      default: 'amqp://127.0.0.1:5672',
      description: 'BROKER=rabbitmq: AMQP 0-9-1 URL, amqp://user:password@host:port/vhost (no credentials: guest)',
    }),
    SQS_ENDPOINT: Type.String({
      pattern: '^(https?://.+)?$',
      default: '',
      description: "BROKER=sqs: endpoint URL of an SQS-compatible server (ElasticMQ); empty for AWS's own in AWS_REGION",
    }),
    SQS_VISIBILITY_TIMEOUT_SECONDS: Type.Integer({
      minimum: 1,
      maximum: 43_200,
      default: 30,
      description:
        'BROKER=sqs: how long a received message stays hidden from other consumers (extended while it is handled); after a crash, how long its messages wait to be delivered again',
    }),
    AWS_REGION: Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', default: 'us-east-1', description: 'BROKER=sqs: the region of the queues (credentials come from the AWS SDK\'s usual chain)' }),
    SHUTDOWN_GRACE_MS: Type.Integer({
      minimum: 1_000,
      default: 25_000,
      description: 'on SIGTERM, exit non-zero if a clean stop takes longer (keep below the orchestrator grace period)',
    }),
    LOG_LEVEL: Type.Union([Type.Literal('error'), Type.Literal('warn'), Type.Literal('log'), Type.Literal('debug')], {
      default: 'log',
    }),
    LOG_FORMAT: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
      default: 'auto',
      description: 'json: one JSON object a line; pretty: readable lines; auto: pretty on a terminal, json otherwise',
    }),
    ...otelConfig(service),
  };
}

/**
 * The standard OpenTelemetry variables this service honours. The SDK reads them
 * itself; they are declared here so a bad value stops the boot like any other.
 * Tracing is off unless OTEL_TRACES_EXPORTER names an exporter.
 */
function otelConfig(service: string) {
  return {
    OTEL_TRACES_EXPORTER: Type.Union([Type.Literal('none'), Type.Literal('otlp'), Type.Literal('console')], {
      default: 'none',
      description: 'none (tracing off), otlp or console',
    }),
    OTEL_EXPORTER_OTLP_ENDPOINT: Type.String({
      pattern: '^https?://',
      default: 'http://localhost:4318',
      description: 'OTLP collector base URL (the default is OTLP/HTTP’s; set :4317 for grpc)',
    }),
    OTEL_EXPORTER_OTLP_PROTOCOL: Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json'), Type.Literal('grpc')], {
      default: 'http/protobuf',
    }),
    OTEL_SERVICE_NAME: Type.String({ minLength: 1, default: service, description: 'service.name of this process’s spans' }),
    OTEL_TRACES_SAMPLER: Type.Union(
      ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'].map((s) => Type.Literal(s)),
      { default: 'parentbased_always_on' },
    ),
    OTEL_TRACES_SAMPLER_ARG: Type.String({ pattern: '^(0(\\.[0-9]+)?|1(\\.0+)?)$', default: '1.0', description: 'ratio for the *traceidratio samplers, 0..1' }),
    OTEL_BSP_SCHEDULE_DELAY: Type.Integer({ minimum: 0, default: 5_000, description: 'ms between two exports of finished spans' }),
  };
}

function convert(schemaType: unknown, raw: string): unknown {
  if (schemaType === 'integer' || schemaType === 'number') return raw.trim() === '' ? raw : Number(raw);
  if (schemaType === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

/**
 * Reads and validates the environment against a schema at boot. Every problem is
 * reported at once, naming the variable, and the process must not start.
 */
export function loadConfig<P extends TProperties>(schema: TObject<P>, env: NodeJS.ProcessEnv = process.env): Static<TObject<P>> {
  const values: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const raw = env[name];
    values[name] = raw === undefined || raw === '' ? Value.Clone(property.default) : convert(property.type, raw);
    if (values[name] === undefined) delete values[name];
  }
  const result = compileValidator(schema)(values);
  if (!result.ok) {
    const problems = result.issues.map((i) => {
      const raw = env[i.field];
      const got = raw === undefined ? '' : ` ${shownValue(i.field, raw, schema.properties[i.field])}`;
      return `  ${i.field}: ${i.message}${got}`;
    });
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  return result.value;
}

/** Names that hold credentials, whether or not the schema marks them `secret: true`. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL/i;

/**
 * How a refused value appears in the boot error: logs outlive the process and
 * reach people who must not see credentials, so a secret is never printed and
 * a URL shows no password.
 */
function shownValue(name: string, raw: string, property: TSchema | undefined): string {
  if ((property as { secret?: unknown } | undefined)?.secret === true || SECRET_NAME.test(name)) return '(value hidden: secret)';
  // user:password@ in any URL-like value, even one too malformed for new URL() to parse.
  return `(got "${raw.replace(/(\/\/[^/:@\s]*:)[^/\s]*@/g, '$1***@')}")`;
}

/** Every variable a schema declares, for docs and for checking deployment files against it. */
export function configVariables(schema: TObject): { name: string; default?: unknown; description?: string }[] {
  return Object.entries(schema.properties).map(([name, p]) => ({
    name,
    default: p.default as unknown,
    description: p.description,
  }));
}
