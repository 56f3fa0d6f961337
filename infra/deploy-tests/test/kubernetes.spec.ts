import path from 'node:path';
import { loadCompose } from './support/compose';
import { K8S_ROOT, ManifestValidator, entryPoints, gvk, kustomizeDirs, render, secretLiterals, type K8sObject } from './support/kubernetes';
import {
  SERVICES,
  checkEnvironment,
  configSchema,
  defaultOf,
  kafkaVersion,
  orderflowTopics,
  readRepoFile,
  serviceDatabases,
} from './support/repo';

const NAMESPACE = 'orderflow';

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
  };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
type Deployment = K8sObject & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    replicas?: number;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

const find = (objects: K8sObject[], kind: string, name?: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

function one<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string, name?: string): T {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

function container(deployment: Deployment): Container {
  const [first, ...others] = deployment.spec.template.spec.containers;
  if (!first || others.length > 0) throw new Error(`${deployment.metadata.name}: expected one container`);
  return first;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Every variable the container gets, with its literal value (undefined when it comes from a Secret). */
function providedEnvironment(
  objects: K8sObject[],
  c: Container,
): { values: Record<string, string | undefined>; fromSecret: Set<string> } {
  const values: Record<string, string | undefined> = {};
  const fromSecret = new Set<string>();
  for (const source of c.envFrom ?? []) {
    if (source.secretRef)
      throw new Error(
        `envFrom secretRef ${source.secretRef.name} hides which variables it sets: use env[].valueFrom.secretKeyRef`,
      );
    const configMap = one<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap', source.configMapRef!.name);
    Object.assign(values, configMap.data ?? {});
  }
  for (const variable of c.env ?? []) {
    if (variable.valueFrom?.secretKeyRef) {
      values[variable.name] = undefined;
      fromSecret.add(variable.name);
    } else if (variable.valueFrom?.configMapKeyRef) {
      const ref = variable.valueFrom.configMapKeyRef;
      values[variable.name] = one<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', ref.name).data[ref.key];
    } else {
      values[variable.name] = variable.value;
    }
  }
  return { values, fromSecret };
}

const entries = entryPoints();
/** The overlays that run the complete Orderflow on another broker than Kafka. */
const BROKER_OVERLAYS = { 'overlays/rabbitmq': 'rabbitmq', 'overlays/sqs': 'sqs' } as const;
const servicesWithKeda = SERVICES.filter((s) => entries.includes(`keda/${s}`));

describe('Kubernetes manifests (infra/k8s, Kustomize)', () => {
  let validator: ManifestValidator;

  beforeAll(() => {
    validator = new ManifestValidator(new Set(entries.flatMap((dir) => render(dir).map(gvk))));
  });

  it('has an entry point per service, the cluster overlays and the KEDA variants', () => {
    expect(entries).toEqual(
      expect.arrayContaining([
        ...SERVICES,
        'overlays/cluster',
        'overlays/cluster-keda',
        'overlays/cluster-observability',
        ...Object.keys(BROKER_OVERLAYS),
      ]),
    );
    expect(servicesWithKeda.length).toBeGreaterThan(0);
  });

  it.each(entries)('renders %s with kubectl kustomize', (dir) => {
    expect(render(dir).length).toBeGreaterThan(0);
  });

  it.each(entries)('validates every object rendered from %s against its Kubernetes or CRD schema', (dir) => {
    const problems = render(dir).flatMap((o) => validator.validate(o).map((p) => `${o.kind}/${o.metadata.name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it.each(entries)('keeps no secret literal in %s: no Secret data, no credential in a variable or a URL', (dir) => {
    expect(secretLiterals(render(dir))).toEqual([]);
  });

  it('uses every component from at least one entry point', () => {
    const dirs = kustomizeDirs();
    const used = new Set(
      dirs.flatMap((k) =>
        ((k.content['components'] as string[] | undefined) ?? []).map((c) =>
          path.relative(K8S_ROOT, path.resolve(K8S_ROOT, k.dir, c)),
        ),
      ),
    );
    for (const component of dirs.filter((k) => k.kind === 'Component')) expect([...used]).toContain(component.dir);
  });

  it.each(entries)('puts every namespaced object of %s in the orderflow namespace', (dir) => {
    const outside = render(dir).filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== NAMESPACE);
    expect(outside.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  describe.each(SERVICES)('%s', (service) => {
    const objects = () => render(service);
    const deployment = () => one<Deployment>(objects(), 'Deployment', service);

    it('deploys alone: its entry point holds its own workload and nothing of another service', () => {
      expect(find(objects(), 'Deployment').map((d) => d.metadata.name)).toEqual([service]);
      for (const kind of ['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'])
        expect(find(objects(), kind).map((o) => o.metadata.name)).toEqual([service]);
      expect(find(objects(), 'ConfigMap')).toHaveLength(1);
      expect(find(objects(), 'Namespace')).toEqual([]);
    });

    it('probes liveness on /health/live and readiness on /health/ready at the container port', () => {
      const c = container(deployment());
      const port = c.ports?.find((p) => p.name === 'http');
      expect(port).toBeDefined();
      for (const [probe, route] of [
        [c.livenessProbe, '/health/live'],
        [c.readinessProbe, '/health/ready'],
      ] as const) {
        expect(probe?.httpGet?.path).toBe(route);
        expect([port!.name, port!.containerPort]).toContain(probe?.httpGet?.port);
      }
    });

    it('sets CPU and memory requests and limits', () => {
      const { resources } = container(deployment());
      for (const bound of [resources?.requests, resources?.limits])
        expect(Object.keys(bound ?? {}).sort()).toEqual(['cpu', 'memory']);
    });

    it('runs as a non-root user with a read-only root filesystem', () => {
      const d = deployment();
      const c = container(d);
      expect(d.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
      expect(d.spec.template.spec.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    });

    it('selects its pods from the Service and the PodDisruptionBudget, and scales the Deployment with the HPA', () => {
      const d = deployment();
      const podLabels = d.spec.template.metadata.labels;
      expect(selects(d.spec.selector.matchLabels, podLabels)).toBe(true);
      const svc = one<K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string | number }[] } }>(
        objects(),
        'Service',
        service,
      );
      expect(selects(svc.spec.selector, podLabels)).toBe(true);
      const containerPort = container(d).ports!.find((p) => p.name === 'http')!;
      for (const p of svc.spec.ports) expect([containerPort.name, containerPort.containerPort]).toContain(p.targetPort);
      const pdb = one<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(
        objects(),
        'PodDisruptionBudget',
        service,
      );
      expect(selects(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
      const hpa = one<K8sObject & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number } }>(
        objects(),
        'HorizontalPodAutoscaler',
      );
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: service });
      // Two replicas at least, so the PodDisruptionBudget lets a node drain without downtime.
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      // The autoscaler owns the replica count: a fixed one would be reset on every apply.
      expect(d.spec.replicas).toBeUndefined();
    });

    it('gives the service its whole shutdown grace before Kubernetes kills it', () => {
      const d = deployment();
      const c = container(d);
      const { values } = providedEnvironment(objects(), c);
      const graceMs = Number(values['SHUTDOWN_GRACE_MS'] ?? defaultOf(service, 'SHUTDOWN_GRACE_MS'));
      const preStopSeconds = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(d.spec.template.spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(preStopSeconds + graceMs / 1000);
    });

    it('provides exactly variables of the config schema, and every one without a default', () => {
      const { values } = providedEnvironment(objects(), container(deployment()));
      expect(checkEnvironment(service, values)).toEqual([]);
    });

    it('takes secrets (variables without a default, and the database URL with its password) from Secrets', () => {
      const { values, fromSecret } = providedEnvironment(objects(), container(deployment()));
      const secret = configSchema(service)
        .filter((v) => v.default === undefined)
        .map((v) => v.name);
      for (const name of [...secret, 'DATABASE_URL']) {
        expect(name in values).toBe(true);
        expect(fromSecret.has(name)).toBe(true);
      }
    });

    it('listens on the port the container exposes', () => {
      const c = container(deployment());
      const { values } = providedEnvironment(objects(), c);
      const port = Number(values['PORT'] ?? defaultOf(service, 'PORT'));
      expect(c.ports?.map((p) => p.containerPort)).toEqual([port]);
    });
  });

  describe('topics as code', () => {
    const declared = () =>
      SERVICES.flatMap((s) => find(render(s), 'KafkaTopic')) as (K8sObject & {
        spec: { topicName?: string; partitions: number; replicas: number; config?: Record<string, unknown> };
      })[];

    it('declares every topic the services use, with its dead-letter topic, once, with the partitions of local runs', () => {
      const topics = declared();
      const names = topics.map((t) => t.spec.topicName ?? t.metadata.name);
      expect([...names].sort()).toEqual(
        orderflowTopics()
          .map((t) => t.topic)
          .sort(),
      );
      for (const spec of orderflowTopics()) {
        expect(topics.find((t) => (t.spec.topicName ?? t.metadata.name) === spec.topic)!.spec.partitions).toBe(
          spec.numPartitions,
        );
      }
    });

    it('sets a retention on every deleting topic and keeps a replica to spare over min.insync.replicas on every topic', () => {
      for (const topic of declared().filter((t) => t.spec.config?.['cleanup.policy'] !== 'compact')) {
        expect(Number(topic.spec.config?.['retention.ms'])).toBeGreaterThan(0);
      }
      for (const topic of declared()) {
        expect(Number(topic.spec.config?.['min.insync.replicas'])).toBeLessThan(topic.spec.replicas);
      }
    });

    it('gives every topic the configuration the services create it with (inventory.products compacted, without a retention)', () => {
      const topics = declared();
      for (const spec of orderflowTopics()) {
        const config = topics.find((t) => (t.spec.topicName ?? t.metadata.name) === spec.topic)!.spec.config ?? {};
        const policy = spec.config?.['cleanup.policy'] ?? 'delete';
        expect([spec.topic, config['cleanup.policy'] ?? 'delete']).toEqual([spec.topic, policy]);
        // A time retention on a compacted topic would still delete the catalog entries of products that did not change.
        if (policy === 'compact') expect([spec.topic, config['retention.ms']]).toEqual([spec.topic, undefined]);
      }
      expect(orderflowTopics().filter((t) => t.config?.['cleanup.policy'] === 'compact').map((t) => t.topic)).toEqual(['inventory.products']);
    });
  });

  describe('the cluster overlays', () => {
    type Kafka = K8sObject & { spec: { kafka: { version: string; listeners: { name: string; port: number; tls: boolean }[] } } };
    type Cluster = K8sObject & {
      spec: {
        bootstrap: { initdb: { postInitSQL?: string[]; database?: string } };
        postgresql?: { parameters?: Record<string, string> };
      };
    };

    it.each(['overlays/cluster', 'overlays/cluster-keda', 'overlays/cluster-observability'])('%s holds the four services, Kafka and PostgreSQL', (dir) => {
      const objects = render(dir);
      expect(
        find(objects, 'Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual([...SERVICES]);
      expect(find(objects, 'Kafka')).toHaveLength(1);
      expect(find(objects, 'Cluster')).toHaveLength(1);
      expect(find(objects, 'Namespace').map((n) => n.metadata.name)).toEqual([NAMESPACE]);
    });

    it('runs the Kafka version of local runs (infra/kafka/pom.xml) on node pools with brokers and controllers', () => {
      const objects = render('overlays/cluster');
      const kafka = one<Kafka>(objects, 'Kafka');
      expect(kafka.spec.kafka.version).toBe(kafkaVersion());
      const pools = find(objects, 'KafkaNodePool') as (K8sObject & { spec: { roles: string[]; replicas: number } })[];
      expect(pools.every((p) => p.metadata.labels?.['strimzi.io/cluster'] === kafka.metadata.name)).toBe(true);
      expect(new Set(pools.flatMap((p) => p.spec.roles))).toEqual(new Set(['broker', 'controller']));
      const brokers = pools.filter((p) => p.spec.roles.includes('broker')).reduce((n, p) => n + p.spec.replicas, 0);
      for (const topic of find(objects, 'KafkaTopic') as (K8sObject & { spec: { replicas: number } })[]) {
        expect(topic.metadata.labels?.['strimzi.io/cluster']).toBe(kafka.metadata.name);
        expect(topic.spec.replicas).toBeLessThanOrEqual(brokers);
      }
    });

    it('points every service at that Kafka cluster and its PostgreSQL, with a database each', () => {
      const objects = render('overlays/cluster');
      const kafka = one<Kafka>(objects, 'Kafka');
      const plain = kafka.spec.kafka.listeners.find((l) => !l.tls)!;
      const cluster = one<Cluster>(objects, 'Cluster');
      const created = (cluster.spec.bootstrap.initdb.postInitSQL ?? []).map((sql) => /^CREATE DATABASE (\w+)/i.exec(sql)?.[1]);
      for (const service of SERVICES) {
        const c = container(one<Deployment>(objects, 'Deployment', service));
        const { values } = providedEnvironment(objects, c);
        expect(values['KAFKA_BROKERS']).toBe(`${kafka.metadata.name}-kafka-bootstrap:${plain.port}`);
        // CloudNativePG writes the application role's credentials to <cluster>-app.
        expect(c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
          name: `${cluster.metadata.name}-app`,
          key: 'uri',
        });
        expect(created).toContain(values['DATABASE_NAME'] ?? serviceDatabases().get(service));
      }
    });

    it('allows PostgreSQL the connections of every service at its autoscaler maximum', () => {
      const objects = render('overlays/cluster');
      const cluster = one<Cluster>(objects, 'Cluster');
      const maxConnections = Number(cluster.spec.postgresql?.parameters?.['max_connections'] ?? 100);
      const needed = SERVICES.reduce((sum, service) => {
        const hpa = one<K8sObject & { spec: { maxReplicas: number } }>(objects, 'HorizontalPodAutoscaler', service);
        const { values } = providedEnvironment(objects, container(one<Deployment>(objects, 'Deployment', service)));
        return sum + hpa.spec.maxReplicas * Number(values['DATABASE_POOL_SIZE'] ?? defaultOf(service, 'DATABASE_POOL_SIZE'));
      }, 0);
      expect(needed).toBeLessThan(maxConnections);
    });
  });

  describe('scaling on consumer lag (KEDA component)', () => {
    type ScaledObject = K8sObject & {
      spec: {
        scaleTargetRef: { name: string };
        minReplicaCount: number;
        maxReplicaCount: number;
        triggers: { type: string; metadata: Record<string, string> }[];
      };
    };

    it.each(servicesWithKeda)('replaces the HPA of %s with a ScaledObject on its consumer group lag', (service) => {
      const objects = render(`keda/${service}`);
      expect(find(objects, 'HorizontalPodAutoscaler')).toEqual([]);
      const scaled = one<ScaledObject>(objects, 'ScaledObject');
      expect(scaled.metadata.name).toBe(service);
      expect(scaled.spec.scaleTargetRef.name).toBe(service);
      const { values } = providedEnvironment(objects, container(one<Deployment>(objects, 'Deployment', service)));
      const kafkaTrigger = scaled.spec.triggers.find((t) => t.type === 'kafka');
      expect(kafkaTrigger?.metadata).toMatchObject({
        consumerGroup: `${values['TOPIC_PREFIX'] ?? String(defaultOf(service, 'TOPIC_PREFIX'))}${service}`,
        bootstrapServers: values['KAFKA_BROKERS'],
      });
      // More consumers than partitions would sit idle.
      const partitions = Math.min(...orderflowTopics().map((t) => t.numPartitions));
      expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(partitions);
      expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    });

    it('scales the same consumers with KEDA in the cluster-keda overlay and nothing twice', () => {
      const objects = render('overlays/cluster-keda');
      const scaledTargets = (find(objects, 'ScaledObject') as ScaledObject[]).map((s) => s.spec.scaleTargetRef.name).sort();
      const hpaTargets = (
        find(objects, 'HorizontalPodAutoscaler') as (K8sObject & { spec: { scaleTargetRef: { name: string } } })[]
      ).map((h) => h.spec.scaleTargetRef.name);
      expect(scaledTargets).toEqual([...servicesWithKeda].sort());
      expect(hpaTargets.filter((t) => scaledTargets.includes(t))).toEqual([]);
      expect([...scaledTargets, ...hpaTargets].sort()).toEqual([...SERVICES]);
    });
  });

  describe('the cluster-observability overlay', () => {
    type PodMonitor = K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] } };

    it('scrapes /metrics on the container port of every service’s pods', () => {
      const objects = render('overlays/cluster-observability');
      const monitor = one<PodMonitor>(objects, 'PodMonitor');
      expect(monitor.metadata.namespace).toBe(NAMESPACE);
      expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
      for (const d of find(objects, 'Deployment') as Deployment[]) {
        expect([d.metadata.name, selects(monitor.spec.selector.matchLabels, d.spec.template.metadata.labels)]).toEqual([d.metadata.name, true]);
        expect(container(d).ports?.map((p) => p.name)).toContain('http');
      }
    });

    it('turns tracing on through the services’ config maps, with variables of their config schema, and only there', () => {
      const configMaps = (dir: string) =>
        (find(render(dir), 'ConfigMap') as (K8sObject & { data: Record<string, string> })[]).filter((c) => c.metadata.name.includes('-config'));
      for (const configMap of configMaps('overlays/cluster-observability')) {
        const service = SERVICES.find((s) => configMap.metadata.name.startsWith(`${s}-config`))!;
        expect([service, configMap.data['OTEL_TRACES_EXPORTER'], configMap.data['OTEL_SERVICE_NAME']]).toEqual([service, 'otlp', service]);
        // Secrets come from Secrets (checked per service above); here: no variable the service does not read.
        expect(checkEnvironment(service, configMap.data).filter((p) => !p.problem.startsWith('required'))).toEqual([]);
      }
      for (const configMap of configMaps('overlays/cluster')) expect(configMap.data['OTEL_TRACES_EXPORTER']).toBe('none');
    });
  });

  describe.each(Object.entries(BROKER_OVERLAYS))('%s, on another broker than Kafka', (dir, broker) => {
    const objects = () => render(dir);

    it('holds the four services, PostgreSQL and the namespace, and nothing of Kafka', () => {
      expect(
        find(objects(), 'Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual([...SERVICES]);
      expect(find(objects(), 'Cluster')).toHaveLength(1);
      expect(find(objects(), 'Namespace').map((n) => n.metadata.name)).toEqual([NAMESPACE]);
      expect(objects().filter((o) => o.apiVersion.startsWith('kafka.strimzi.io/')).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    });

    it.each(SERVICES)(`runs %s with BROKER=${broker}, exactly variables of its config schema and none of Kafka`, (service) => {
      const { values } = providedEnvironment(objects(), container(one<Deployment>(objects(), 'Deployment', service)));
      expect(values['BROKER']).toBe(broker);
      expect(checkEnvironment(service, values)).toEqual([]);
      expect(Object.keys(values).filter((name) => name.startsWith('KAFKA_'))).toEqual([]);
    });

    it.each(SERVICES)('keeps the probes, resources, security, secrets and grace period of %s from its base', (service) => {
      const base = one<Deployment>(render(service), 'Deployment', service);
      const here = one<Deployment>(objects(), 'Deployment', service);
      const [b, h] = [container(base), container(here)];
      for (const part of ['startupProbe', 'livenessProbe', 'readinessProbe', 'resources', 'securityContext', 'ports', 'lifecycle'] as const)
        expect([part, h[part]]).toEqual([part, b[part]]);
      expect(here.spec.template.spec.terminationGracePeriodSeconds).toBe(base.spec.template.spec.terminationGracePeriodSeconds);
      expect(here.spec.template.spec.securityContext).toMatchObject(base.spec.template.spec.securityContext ?? {});
      // Every Secret the base reads is still read, and only new ones are added.
      expect(h.env).toEqual(expect.arrayContaining(b.env ?? []));
    });
  });

  describe('the rabbitmq overlay', () => {
    type RabbitmqCluster = K8sObject & {
      spec: {
        replicas: number;
        image: string;
        resources: { requests: Record<string, string>; limits: Record<string, string> };
        persistence: { storage: string };
        tls?: { secretName?: string };
      };
    };
    const objects = () => render('overlays/rabbitmq');

    it('runs a RabbitmqCluster of an odd number of nodes (3 or more, for quorum queues), with requests, limits and persistent storage', () => {
      const cluster = one<RabbitmqCluster>(objects(), 'RabbitmqCluster');
      expect(cluster.spec.replicas).toBeGreaterThanOrEqual(3);
      expect(cluster.spec.replicas % 2).toBe(1);
      for (const bound of [cluster.spec.resources.requests, cluster.spec.resources.limits])
        expect(Object.keys(bound).sort()).toEqual(['cpu', 'memory']);
      // RabbitMQ sizes its memory alarm from the limit: a request below it could be evicted first.
      expect(cluster.spec.resources.requests['memory']).toBe(cluster.spec.resources.limits['memory']);
      expect(cluster.spec.persistence.storage).toMatch(/^\d+Gi$/);
    });

    it('runs RabbitMQ 3.10 or later (quorum queues), the image Compose runs', () => {
      const cluster = one<RabbitmqCluster>(objects(), 'RabbitmqCluster');
      const [, major, minor] = /^rabbitmq:(\d+)\.(\d+)\.\d+-management$/.exec(cluster.spec.image) ?? [];
      expect(Number(major) * 100 + Number(minor)).toBeGreaterThanOrEqual(310);
      expect(cluster.spec.image).toBe(loadCompose().services['rabbitmq']?.image);
    });

    it('gives every service RABBITMQ_URL from the connection string the operator writes for that cluster, never a literal', () => {
      const cluster = one<RabbitmqCluster>(objects(), 'RabbitmqCluster');
      // The operator's `<cluster>-default-user` Secret; amqp:// without TLS, amqps:// with.
      expect(cluster.spec.tls?.secretName).toBeUndefined();
      for (const service of SERVICES) {
        const c = container(one<Deployment>(objects(), 'Deployment', service));
        expect([service, c.env?.find((e) => e.name === 'RABBITMQ_URL')?.valueFrom?.secretKeyRef]).toEqual([
          service,
          { name: `${cluster.metadata.name}-default-user`, key: 'connection_string' },
        ]);
      }
    });
  });

  describe('the sqs overlay', () => {
    type Pod = { serviceAccountName?: string; automountServiceAccountToken?: boolean };
    const objects = () => render('overlays/sqs');

    it('runs every service as a service account with an IAM role (IRSA) and no token of the Kubernetes API', () => {
      const account = one<K8sObject & { automountServiceAccountToken?: boolean }>(objects(), 'ServiceAccount');
      expect(account.metadata.annotations?.['eks.amazonaws.com/role-arn']).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/);
      expect(account.automountServiceAccountToken).toBe(false);
      for (const d of find(objects(), 'Deployment') as Deployment[]) {
        const pod = d.spec.template.spec as PodSpec & Pod;
        expect([d.metadata.name, pod.serviceAccountName, pod.automountServiceAccountToken]).toEqual([
          d.metadata.name,
          account.metadata.name,
          false,
        ]);
      }
    });

    it("uses AWS's own SQS endpoint in one region for every service, and no AWS key", () => {
      const regions = new Set<string | undefined>();
      for (const service of SERVICES) {
        const c = container(one<Deployment>(objects(), 'Deployment', service));
        const { values } = providedEnvironment(objects(), c);
        expect([service, values['SQS_ENDPOINT']]).toEqual([service, '']);
        regions.add(values['AWS_REGION']);
        expect(Object.keys(values).filter((name) => name.startsWith('AWS_') && name !== 'AWS_REGION')).toEqual([]);
      }
      expect(regions.size).toBe(1);
    });

    it('prefixes every queue alike, and the IAM policy of docs/deployment-brokers.md allows the SQS calls on exactly those queues', () => {
      const prefixes = new Set(
        SERVICES.map((service) => providedEnvironment(objects(), container(one<Deployment>(objects(), 'Deployment', service))).values['TOPIC_PREFIX']),
      );
      expect(prefixes.size).toBe(1);
      const [prefix] = [...prefixes];
      expect(prefix).toMatch(/^[A-Za-z0-9_-]+$/);
      const policy = JSON.parse(/```json\n([\s\S]*?)```/.exec(readRepoFile('docs', 'deployment-brokers.md'))![1]!) as {
        Statement: { Effect: string; Action: string[]; Resource: string }[];
      };
      const [statement] = policy.Statement;
      expect(statement?.Resource).toMatch(new RegExp(`^arn:aws:sqs:[a-z0-9-]+:\\d{12}:${prefix}\\*$`));
      expect([...(statement?.Action ?? [])].sort()).toEqual(
        ['CreateQueue', 'GetQueueUrl', 'GetQueueAttributes', 'SetQueueAttributes', 'SendMessage', 'ReceiveMessage', 'DeleteMessage', 'ChangeMessageVisibility', 'ListQueues']
          .map((a) => `sqs:${a}`)
          .sort(),
      );
    });
  });

  describe('the validator itself', () => {
    const REMOVE = Symbol('remove');
    /** A copy of `object` with the value at `at` replaced (or removed). */
    const mutated = (object: K8sObject, at: (string | number)[], value: unknown): K8sObject => {
      const copy = structuredClone(object);
      let node = copy as unknown as Record<string | number, unknown>;
      for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
      const last = at[at.length - 1]!;
      if (value === REMOVE) delete node[last];
      else node[last] = value;
      return copy;
    };
    const container0 = ['spec', 'template', 'spec', 'containers', 0];

    it('rejects a misspelt field, a wrong type and a missing required field in a Deployment', () => {
      const d = one(render(SERVICES[0]!), 'Deployment');
      expect(validator.validate(d)).toEqual([]);
      expect(validator.validate(mutated(d, [...container0, 'readinessProbes'], {}))).not.toEqual([]);
      expect(validator.validate(mutated(d, [...container0, 'ports', 0, 'containerPort'], '3000'))).not.toEqual([]);
      expect(validator.validate(mutated(d, [...container0, 'name'], REMOVE))).not.toEqual([]);
    });

    it('rejects invalid Strimzi, CloudNativePG, KEDA, Prometheus Operator and RabbitMQ objects', () => {
      const cluster = render('overlays/cluster');
      const topic = find(cluster, 'KafkaTopic')[0]!;
      expect(validator.validate(mutated(topic, ['spec', 'partitions'], 'three'))).not.toEqual([]);
      expect(validator.validate(mutated(topic, ['spec', 'partition'], 3))).not.toEqual([]);
      const kafka = one(cluster, 'Kafka');
      expect(validator.validate(mutated(kafka, ['spec', 'kafka', 'listeners'], REMOVE))).not.toEqual([]);
      const postgres = one(cluster, 'Cluster');
      expect(validator.validate(mutated(postgres, ['spec', 'instance'], 3))).not.toEqual([]);
      expect(validator.validate(mutated(postgres, ['spec', 'bootstrap', 'initdb', 'postInitSql'], []))).not.toEqual([]);
      expect(validator.validate(mutated(postgres, ['spec', 'instances'], '3'))).not.toEqual([]);
      const scaled = find(render('overlays/cluster-keda'), 'ScaledObject')[0]!;
      expect(validator.validate(mutated(scaled, ['spec', 'maxReplicas'], 3))).not.toEqual([]);
      expect(validator.validate(mutated(scaled, ['spec', 'scaleTargetRef'], REMOVE))).not.toEqual([]);
      const monitor = one(render('overlays/cluster-observability'), 'PodMonitor');
      expect(validator.validate(monitor)).toEqual([]);
      expect(validator.validate(mutated(monitor, ['spec', 'podMetricsEndpoints', 0, 'interval'], 15))).not.toEqual([]);
      expect(validator.validate(mutated(monitor, ['spec', 'selector'], REMOVE))).not.toEqual([]);
      const rabbitmq = one(render('overlays/rabbitmq'), 'RabbitmqCluster');
      expect(validator.validate(rabbitmq)).toEqual([]);
      expect(validator.validate(mutated(rabbitmq, ['spec', 'replicas'], '3'))).not.toEqual([]);
      expect(validator.validate(mutated(rabbitmq, ['spec', 'replica'], 3))).not.toEqual([]);
      expect(validator.validate(mutated(rabbitmq, ['spec', 'service'], { type: 'Ingress' }))).not.toEqual([]);
      expect(validator.validate(mutated(rabbitmq, ['spec', 'persistence', 'size'], '20Gi'))).not.toEqual([]);
      expect(validator.validate(mutated(rabbitmq, ['spec', 'resources', 'limit'], {}))).not.toEqual([]);
    });

    it('finds a secret written into a manifest: Secret data, a credential variable, a password in a URL', () => {
      const d = one(render(SERVICES[0]!), 'Deployment');
      expect(secretLiterals([d])).toEqual([]);
      const literal = mutated(d, [...container0, 'env'], [{ name: 'AWS_SECRET_ACCESS_KEY', value: 'abc' }]);
      expect(secretLiterals([literal])).toHaveLength(1);
      const url = mutated(d, [...container0, 'env'], [{ name: 'RABBITMQ_URL', value: 'amqp://user:pw@rabbitmq:5672/' }]);
      expect(secretLiterals([url])).toHaveLength(1);
      const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'x' } };
      expect(secretLiterals([secret])).toHaveLength(1);
    });

    it('refuses a kind it has no schema for', () => {
      expect(validator.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
        expect.stringContaining('no schema for example.com/v1/Widget'),
      ]);
    });
  });
});
