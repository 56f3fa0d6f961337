import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  Cluster,
  REPO_ROOT,
  StorefrontClient,
  checkInvariants,
  brokerUnderTest,
  ensureBroker,
  ensurePostgres,
  sampleAddress,
  signDevToken,
  testTransport,
  waitForQuiet,
  type InvariantOptions,
  type PlaceOrderRequest,
} from '@orderflow/testkit';

export const order = (items: PlaceOrderRequest['items'], token = 'tok_visa'): PlaceOrderRequest => ({
  items,
  payment: { token },
  shippingAddress: sampleAddress,
});

/**
 * Each broker's run of the suite on ports of its own, so the runs on different
 * brokers can go side by side: a file's base port plus this.
 */
export const brokerPortOffset = (): number => ({ kafka: 0, rabbitmq: 1_000, sqs: 2_000 })[brokerUnderTest()];

export interface TestSystem {
  cluster: Cluster;
  customer: (id?: string) => StorefrontClient;
  /** A bearer token for the customer, as the development sign-in issues it. */
  token: (customerId: string, roles?: readonly string[]) => Promise<string>;
  anonymous: StorefrontClient;
  /** Waits for quiet and asserts every invariant of docs/invariants.md. */
  assertInvariants: (options?: InvariantOptions) => Promise<void>;
  teardown: () => Promise<void>;
}

/**
 * A cluster of its own for one test file: random topic prefix, databases and
 * ports, so files never see each other's events; everything is removed after.
 */
export async function startSystem(basePort: number, extraEnv?: ConstructorParameters<typeof Cluster>[0]['extraEnv']): Promise<TestSystem> {
  await ensurePostgres();
  await ensureBroker();
  const id = randomBytes(3).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const cluster = new Cluster({
    topicPrefix: `e2e-${id}.`,
    databaseSuffix: `_e2e_${id}`,
    basePort: basePort + brokerPortOffset(),
    jwtSecret: secret,
    logDir: join(REPO_ROOT, '.cache/e2e-logs', id),
    ...(extraEnv ? { extraEnv } : {}),
  });
  await cluster.start();
  await cluster.seed();
  const token = (customerId: string, roles: readonly string[] = []) => signDevToken(customerId, secret, 3600, roles);
  const customer = (customerId = 'customer-1') => new StorefrontClient(cluster.url('orders'), token(customerId));
  // The storefront's catalog is a projection of inventory's events: wait for it to
  // exist; that it converges to inventory's stock is one of the invariants.
  const deadline = Date.now() + 60_000;
  while ((await customer().products()).body.length < 6) {
    if (Date.now() > deadline) throw new Error('catalog never reached the storefront');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    cluster,
    customer,
    token,
    anonymous: new StorefrontClient(cluster.url('orders'), undefined),
    assertInvariants: async (options) => {
      await waitForQuiet(cluster, 90_000);
      expect(await checkInvariants(cluster, options)).toEqual([]);
    },
    teardown: async () => {
      await cluster.stop();
      await cluster.dropDatabases();
      // Queues and topics of a finished file are of no use to anyone; quorum queues cost the broker memory.
      const transport = testTransport(cluster.options.topicPrefix, 'e2e-teardown');
      await transport.tearDown().finally(() => transport.close());
    },
  };
}
