import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../../..');

export function repoPath(...segments: string[]): string {
  return path.join(REPO, ...segments);
}

export function readRepoFile(...segments: string[]): string {
  return readFileSync(repoPath(...segments), 'utf8');
}

/** One environment variable an app reads, as `--print-config` describes it. */
export interface ConfigVariable {
  name: string;
  default?: unknown;
  description?: string;
}

/** The deployable services: every app under apps/. */
export const SERVICES: readonly string[] = readdirSync(repoPath('apps'))
  .filter((app) => existsSync(repoPath('apps', app, 'package.json')))
  .sort();

const schemas = new Map<string, ConfigVariable[]>();

/** The app's config schema, from the app itself: `node apps/<app>/dist/main.js --print-config`. */
export function configSchema(app: string): ConfigVariable[] {
  let schema = schemas.get(app);
  if (!schema) {
    const out = execFileSync(process.execPath, [repoPath('apps', app, 'dist', 'main.js'), '--print-config'], {
      encoding: 'utf8',
    });
    schema = JSON.parse(out) as ConfigVariable[];
    schemas.set(app, schema);
  }
  return schema;
}

export function defaultOf(app: string, variable: string): unknown {
  const entry = configSchema(app).find((v) => v.name === variable);
  if (!entry) throw new Error(`${app} does not read ${variable}`);
  return entry.default;
}

/**
 * Read by the AWS SDK's default credential chain (BROKER=sqs), not by a service's
 * schema: Compose hands ElasticMQ's placeholder credentials through them. On AWS the
 * chain finds a role instead (IRSA), so no manifest sets them.
 */
export const AWS_SDK_CREDENTIALS: readonly string[] = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

export interface EnvProblem {
  variable: string;
  problem: string;
}

/**
 * Holds the environment a deployment file gives an app to the app's schema: every
 * variable provided must be one the app reads, every variable without a default must
 * be provided, and a value must fit the type of the default (a number stays a number).
 * `values` maps names to literal values, or to undefined where the value comes from
 * elsewhere (a Kubernetes Secret).
 */
export function checkEnvironment(app: string, values: Record<string, string | undefined>): EnvProblem[] {
  const schema = configSchema(app);
  const known = new Map(schema.map((v) => [v.name, v]));
  const problems: EnvProblem[] = [];
  for (const [name, value] of Object.entries(values)) {
    const variable = known.get(name);
    if (!variable) {
      problems.push({ variable: name, problem: `${app} does not read it (not in its config schema)` });
      continue;
    }
    if (value !== undefined && typeof variable.default === 'number' && !/^-?\d+$/.test(value)) {
      problems.push({ variable: name, problem: `"${value}" is not an integer, as its default ${variable.default} is` });
    }
  }
  for (const variable of schema) {
    if (variable.default === undefined && !(variable.name in values)) {
      problems.push({ variable: variable.name, problem: 'required (no default) but not provided' });
    }
  }
  return problems;
}

interface PackageJson {
  name: string;
  version?: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  packageManager?: string;
}

export function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Workspace package name → its directory relative to the repository root. */
export function workspaces(root = REPO): Map<string, string> {
  const found = new Map<string, string>();
  for (const pattern of readPackageJson(root).workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(path.join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => `${pattern.slice(0, -2)}/${d.name}`)
      : [pattern];
    for (const dir of dirs) {
      if (existsSync(path.join(root, dir, 'package.json'))) found.set(readPackageJson(path.join(root, dir)).name, dir);
    }
  }
  return found;
}

/** The workspace packages `names` depend on at runtime, transitively, including themselves. */
export function internalClosure(names: string[], root = REPO): Set<string> {
  const all = workspaces(root);
  const closure = new Set<string>();
  const visit = (name: string) => {
    if (closure.has(name)) return;
    closure.add(name);
    const dir = all.get(name);
    if (!dir) throw new Error(`${name} is not a workspace`);
    for (const dep of Object.keys(readPackageJson(path.join(root, dir)).dependencies ?? {})) {
      if (all.has(dep)) visit(dep);
    }
  };
  names.forEach(visit);
  return closure;
}

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readRepoFile('infra', 'kafka', 'pom.xml'));
  if (!match?.[1]) throw new Error('infra/kafka/pom.xml has no kafka.version');
  return match[1];
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  config?: Record<string, string>;
}

/** The topics every service creates at boot, with their partition counts (packages/messaging). */
export function orderflowTopics(): TopicSpec[] {
  // The built package, as the services use it: the same list and the same partition count.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const messaging = require(repoPath('packages', 'messaging', 'dist', 'index.js')) as {
    orderflowTopics(prefix?: string): TopicSpec[];
  };
  return messaging.orderflowTopics('');
}

/** The database names the services use: each one's DATABASE_NAME default. */
export function serviceDatabases(): Map<string, string> {
  return new Map(SERVICES.map((app) => [app, String(defaultOf(app, 'DATABASE_NAME'))]));
}
