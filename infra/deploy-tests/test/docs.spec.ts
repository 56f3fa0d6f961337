import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { buildArgs, environmentOf, loadCompose, portsOf } from './support/compose';
import {
  ManifestValidator,
  STRIMZI_VERSION,
  entryPoints,
  gvk,
  kubectlVersion,
  render,
  type K8sObject,
} from './support/kubernetes';
import {
  REPO,
  SERVICES,
  checkEnvironment,
  kafkaVersion,
  orderflowTopics,
  readRepoFile,
  repoPath,
  serviceDatabases,
} from './support/repo';

const docs = readRepoFile('README.md');
/** README.md and the deployment pages beside it: entry points and Secrets may be described in either. */
const deploymentDocs = [docs, readRepoFile('docs', 'deployment-brokers.md')].join('\n');

interface SecretRef {
  name: string;
  key: string;
}

function secretRefs(): SecretRef[] {
  const refs = new Map<string, SecretRef>();
  for (const dir of entryPoints()) {
    const text = JSON.stringify(render(dir));
    for (const m of text.matchAll(
      /"secretKeyRef":\{"key":"([^"]+)","name":"([^"]+)"\}|"secretKeyRef":\{"name":"([^"]+)","key":"([^"]+)"\}/g,
    )) {
      const ref = m[1] ? { key: m[1], name: m[2]! } : { name: m[3]!, key: m[4]! };
      refs.set(`${ref.name}/${ref.key}`, ref);
    }
  }
  return [...refs.values()];
}

describe('README.md (and docs/deployment-brokers.md) match the files', () => {
  it('names only Kustomize entry points that exist, and every one of them', () => {
    const entries = entryPoints();
    const applied = [...deploymentDocs.matchAll(/kubectl apply -k ([\w/.-]*[\w-])/g)].map((m) => m[1]!);
    expect(applied.length).toBeGreaterThan(0);
    for (const target of applied.filter((t) => t.startsWith('infra/k8s/')))
      expect(entries).toContain(target.replace('infra/k8s/', ''));
    for (const entry of entries) expect(deploymentDocs).toContain(`infra/k8s/${entry}`);
    for (const component of ['components/keda-consumer-lag', 'components/without-kafka'])
      expect(deploymentDocs).toContain(`infra/k8s/${component}`);
  });

  it('lists every Secret the manifests reference, with its key, and creates no other', () => {
    const refs = secretRefs();
    expect(refs.length).toBeGreaterThan(0);
    // A row of the Secrets table: | `name` | `key` | ...
    for (const ref of refs)
      expect(deploymentDocs).toMatch(new RegExp(`^\\|\\s*\`${ref.name}\`\\s*\\|\\s*\`${ref.key}\`\\s*\\|`, 'm'));
    const created = [...deploymentDocs.matchAll(/create secret generic (\S+)(?: \\\n\s*)? --from-literal=([\w.-]+)=/g)].map(
      (m) => `${m[1]}/${m[2]}`,
    );
    expect(created.length).toBeGreaterThan(0);
    for (const c of created) expect(refs.map((r) => `${r.name}/${r.key}`)).toContain(c);
  });

  it('gives the error docker compose prints without AUTH_JWT_SECRET, and the ports Compose publishes', () => {
    const compose = loadCompose();
    const orders = compose.services['orders']!;
    const message = /\$\{AUTH_JWT_SECRET:\?([^}]+)\}/.exec(environmentOf(orders)['AUTH_JWT_SECRET']!)![1]!;
    expect(docs).toContain(`required variable AUTH_JWT_SECRET is missing a value: ${message}`);
    for (const [name, service] of Object.entries(compose.services).filter(([n, s]) => SERVICES.includes(n) && buildArgs(s))) {
      for (const port of portsOf(service)) {
        const host =
          port.hostIp === '127.0.0.1' && name !== 'orders' ? `127.0.0.1:${port.published}` : `localhost:${port.published}`;
        expect([name, docs.includes(host)]).toEqual([name, true]);
      }
    }
  });

  it('places an example order the storefront accepts, for products of the demo catalog', () => {
    const body = /-d '(\{"items".*\})'/.exec(docs)![1]!;
    const order = JSON.parse(body) as { items: { sku: string }[] };
    // The request schema and validator the orders service itself uses.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { PlaceOrderBody } = require(repoPath('apps', 'orders', 'dist', 'order', 'place-order.request.js')) as {
      PlaceOrderBody: unknown;
    };
    const { compileValidator } = require(repoPath('packages', 'contracts', 'dist', 'index.js')) as {
      compileValidator(schema: unknown): (value: unknown) => { ok: boolean; issues?: unknown[] };
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const result = compileValidator(PlaceOrderBody)(order);
    expect(result.issues ?? []).toEqual([]);
    expect(result.ok).toBe(true);
    const catalog = JSON.parse(readFileSync(repoPath('apps', 'inventory', 'catalog', 'demo.json'), 'utf8')) as { sku: string }[];
    for (const item of order.items) expect(catalog.map((p) => p.sku)).toContain(item.sku);
    expect(docs).toContain('npm run --silent token -- alice');
  });

  it('states the versions the files and the tests use', () => {
    expect(docs).toContain(`Strimzi ${STRIMZI_VERSION}`);
    expect(docs).toContain(`Apache Kafka ${kafkaVersion()}`);
    const version = kubectlVersion();
    const kubectl = /Client Version: v(\S+)/.exec(version)![1]!;
    const kustomize = /Kustomize Version: (\S+)/.exec(version)![1]!;
    expect(docs).toContain(`kubectl ${kubectl}`);
    expect(docs).toContain(`Kustomize ${kustomize}`);
  });

  it('names the topics and the databases the services use', () => {
    for (const topic of orderflowTopics().filter((t) => !t.topic.endsWith('.dlq'))) expect(docs).toContain(`\`${topic.topic}\``);
    for (const database of serviceDatabases().values()) expect(docs).toContain(`\`${database}\``);
  });

  it('shows an overlay of your own that renders, validates and changes what it says', () => {
    const block = /```yaml\n(apiVersion: kustomize[\s\S]*?resources:\n\s+- \.\.\/\.\.\/infra\/k8s\/(\w+)[\s\S]*?)```/.exec(docs)!;
    const [, yaml, service] = block as unknown as [string, string, string];
    // Two levels below the repository root, where the example's ../../infra/k8s points.
    const dir = path.join(REPO, '.cache', 'deploy-tests-docs-overlay');
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(path.join(dir, 'kustomization.yaml'), yaml);
      const objects = render(dir, REPO);
      const validator = new ManifestValidator(new Set(objects.map(gvk)));
      expect(objects.flatMap((o) => validator.validate(o))).toEqual([]);
      const example = parse(yaml) as {
        images: { newName: string; newTag: string }[];
        configMapGenerator: { literals: string[] }[];
      };
      const deployment = objects.find((o) => o.kind === 'Deployment') as K8sObject & {
        spec: { template: { spec: { containers: { image: string }[] } } };
      };
      expect(deployment.spec.template.spec.containers[0]!.image).toBe(
        `${example.images[0]!.newName}:${example.images[0]!.newTag}`,
      );
      const configMap = objects.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
      for (const literal of example.configMapGenerator[0]!.literals) {
        const [name, value] = literal.split('=') as [string, string];
        expect(configMap.data[name]).toBe(value);
      }
      expect(checkEnvironment(service, configMap.data)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
