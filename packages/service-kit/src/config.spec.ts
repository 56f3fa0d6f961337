import { Type } from '@sinclair/typebox';
import { ConfigError, commonConfig, loadConfig } from './config';

const schema = Type.Object({
  ...commonConfig('orders', 3000),
  ORDER_PENDING_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, default: 900 }),
  AUTH_JWT_SECRET: Type.String({ minLength: 32, secret: true }),
  PAYMENT_API_KEY: Type.String({ minLength: 32, default: 'k'.repeat(32) }),
});

const SECRET = 'a-jwt-secret-with-plenty-of-entropy-0123456789';

function failure(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('applies defaults and converts numbers', () => {
    expect(loadConfig(schema, { AUTH_JWT_SECRET: SECRET, ORDER_PENDING_TIMEOUT_SECONDS: '60' })).toMatchObject({
      PORT: 3000,
      ORDER_PENDING_TIMEOUT_SECONDS: 60,
      AUTH_JWT_SECRET: SECRET,
    });
  });

  it('names the variable and shows the value of one that is not secret', () => {
    expect(failure({ AUTH_JWT_SECRET: SECRET, ORDER_PENDING_TIMEOUT_SECONDS: 'soon' }).message).toMatch(
      /ORDER_PENDING_TIMEOUT_SECONDS: .* \(got "soon"\)/,
    );
  });

  it('names a variable marked secret in the schema but never prints its value', () => {
    const message = failure({ AUTH_JWT_SECRET: 'hunter2-too-short' }).message;
    expect(message).toMatch(/AUTH_JWT_SECRET: .*value hidden/);
    expect(message).not.toContain('hunter2');
  });

  it('hides the value of a variable whose name says it is a secret, password, token or key', () => {
    const message = failure({ AUTH_JWT_SECRET: SECRET, PAYMENT_API_KEY: 'sk_live_short' }).message;
    expect(message).toMatch(/PAYMENT_API_KEY: .*value hidden/);
    expect(message).not.toContain('sk_live_short');
  });

  it('shows a URL with its password replaced, never the password', () => {
    const message = failure({ AUTH_JWT_SECRET: SECRET, DATABASE_URL: 'mysql://orders:s3cr3t-pw@db.internal:5432' }).message;
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('(got "mysql://orders:***@db.internal:5432")');
    expect(message).not.toContain('s3cr3t-pw');
  });

  it('leaves tracing off unless an exporter is named, and names a bad OTEL_* value', () => {
    expect(loadConfig(schema, { AUTH_JWT_SECRET: SECRET })).toMatchObject({ OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: 'orders' });
    expect(
      loadConfig(schema, { AUTH_JWT_SECRET: SECRET, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    ).toMatchObject({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    const message = failure({ AUTH_JWT_SECRET: SECRET, OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift', OTEL_TRACES_SAMPLER_ARG: '2' }).message;
    expect(message).toMatch(/OTEL_EXPORTER_OTLP_PROTOCOL: .*\(got "thrift"\)/);
    expect(message).toMatch(/OTEL_TRACES_SAMPLER_ARG: .*\(got "2"\)/);
  });

  it('reports every problem at once', () => {
    const message = failure({ PORT: '0', KAFKA_BROKERS: '' }).message;
    expect(message).toMatch(/PORT: .*\(got "0"\)/);
    expect(message).toMatch(/AUTH_JWT_SECRET: is required/);
  });
});
