import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { ServiceProcess, StorefrontClient, waitForQuiet, type OrderStreamReader } from '@orderflow/testkit';
import { order, startSystem, type TestSystem } from './support';

/** What the storefront page is built on: sign-in, "my orders" and the live order stream. */
describe('the storefront API: development sign-in, my orders, live order streams', () => {
  let system: TestSystem;
  let second: ServiceProcess;
  const streams: OrderStreamReader[] = [];

  beforeAll(async () => {
    system = await startSystem(3410, { orders: { AUTH_DEV_TOKENS: 'true' } });
    const first = system.cluster.services.orders;
    // A second orders instance on the same database, as behind a load balancer.
    second = new ServiceProcess('orders', first.port + 10, first.environment, join(first.logFile, '..', 'orders-2.log'));
    second.start();
    await second.waitReady();
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await second?.stop('SIGTERM');
    await system?.teardown();
  });

  const secondInstance = (customerId: string) => new StorefrontClient(`http://127.0.0.1:${second.port}`, system.token(customerId));

  it('signs in a demo customer through the development endpoint, and an operator only when asked', async () => {
    const issue = (body: unknown) => system.anonymous.request<{ token: string }>('POST', '/auth/dev-token', body);
    const signedIn = await issue({ customerId: 'dana' });
    expect(signedIn.status).toBe(201);
    const dana = new StorefrontClient(system.cluster.url('orders'), signedIn.body.token);
    expect((await dana.products()).status).toBe(200);
    expect((await dana.listOrders()).body).toEqual({ orders: [] });
    const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { roles?: string[] };
    expect(claims(signedIn.body.token).roles).toBeUndefined();
    expect(claims((await issue({ customerId: 'ops', operator: true })).body.token).roles).toEqual(['operator']);

    const bad = await issue({ customerId: '' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ details: [{ field: 'customerId' }] });
  });

  it('lists only the signed-in customer’s orders, newest first, a page at a time', async () => {
    const frank = system.customer('frank');
    const placed: string[] = [];
    for (let i = 0; i < 5; i++) placed.push((await frank.placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]))).body.orderId);
    await system.customer('gina').placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]));

    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await frank.listOrders({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      sizes.push(page.body.orders.length);
      seen.push(...page.body.orders.map((o) => o.orderId));
      cursor = page.body.next;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual([...placed].reverse());

    const first = (await frank.listOrders({ limit: 1 })).body.orders[0]!;
    expect(first).toMatchObject({ orderId: placed[4], total: expect.any(Number), currency: expect.any(String), placedAt: expect.any(String) });
    expect((await system.customer('gina').listOrders()).body.orders.map((o) => o.orderId)).not.toContain(placed[0]);
  });

  it('answers a bad page request with a 400 naming the parameter', async () => {
    const frank = system.customer('frank');
    for (const limit of ['0', '101', 'ten', '-1']) {
      const r = await frank.listOrders({ limit });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: 'VALIDATION', details: [{ field: 'limit' }] });
    }
    const forged = await frank.listOrders({ cursor: 'not-a-cursor' });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ details: [{ field: 'cursor' }] });
    expect((await system.anonymous.listOrders()).status).toBe(401);
  });

  it('streams an order’s events live from another instance than the one that placed it, to COMPLETED', async () => {
    // Connections of either instance listening for order changes: none until someone watches.
    const listening = async () =>
      Number(
        (
          await system.cluster.query<{ n: string }>(
            'orders',
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN orderflow_orders_changed'",
          )
        )[0]!.n,
      );
    expect(await listening()).toBe(0);
    const hana = system.customer('hana');
    const placed = await hana.placeOrder(order([{ sku: 'KB-MECH-01', quantity: 1 }]));
    // Placed through the first instance, watched through the second: it hears of the events by NOTIFY.
    const stream = await secondInstance('hana').streamOrder(placed.body.orderId);
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await stream.waitFor((m) => m.event === 'status' && (m.data as { status: string }).status === 'COMPLETED');
    expect(await listening()).toBe(1);
    await stream.waitFor((m) => m.event === 'recorded' && (m.data as { type: string }).type === 'StockCommitted');
    const recorded = stream.recorded;
    expect(recorded.map((e) => e.version)).toEqual(recorded.map((_, i) => i + 1));
    expect(new Set(recorded.map((e) => e.source))).toEqual(new Set(['orders', 'payment', 'inventory', 'shipping']));
    expect(recorded.map((e) => e.type)).toEqual(expect.arrayContaining(['OrderPlaced', 'PaymentAuthorized', 'StockReserved', 'ShipmentPrepared', 'OrderConfirmed', 'PickupScheduled', 'OrderCompleted']));
    const history = (await hana.getOrder(placed.body.orderId)).body.history;
    expect(recorded.map((e) => e.type)).toEqual(history.map((h) => h.type));
    const last = stream.messages.filter((m) => m.event === 'status').at(-1)!;
    expect(last.data).toEqual({ status: 'COMPLETED', cancellable: false });
  });

  it('resumes after Last-Event-ID with only the newer events', async () => {
    const hana = system.customer('hana');
    const placed = await hana.placeOrder(order([{ sku: 'MOUSE-PRO', quantity: 1 }]));
    const done = await hana.waitForHistory(placed.body.orderId, ['OrderCompleted', 'StockCommitted']);
    const resumed = await hana.streamOrder(placed.body.orderId, 3);
    streams.push(resumed);
    await resumed.waitFor((m) => m.event === 'status');
    await resumed.waitFor(() => resumed.recorded.length === done.history.length - 3);
    expect(resumed.recorded.map((e) => e.version)).toEqual(done.history.slice(3).map((_, i) => i + 4));
    expect(resumed.messages.find((m) => m.event === 'recorded')?.id).toBe('4');

    const bad = await hana.streamOrder(placed.body.orderId, 'x' as unknown as number);
    expect(bad.status).toBe(400);
  });

  it('shows the cancellation and its compensation live when payment declines', async () => {
    const ivan = system.customer('ivan');
    const placed = await ivan.placeOrder(order([{ sku: 'DESK-LAMP', quantity: 1 }], 'tok_declined'));
    const stream = await ivan.streamOrder(placed.body.orderId);
    streams.push(stream);
    await stream.waitFor((m) => m.event === 'status' && (m.data as { status: string }).status === 'CANCELLED');
    await stream.waitFor(() => ['StockReleased', 'ShipmentCancelled'].every((t) => stream.recorded.some((e) => e.type === t)));
    expect(stream.messages.filter((m) => m.event === 'status').at(-1)!.data).toEqual({ status: 'CANCELLED', reason: 'PAYMENT_DECLINED', cancellable: false });
  });

  it('never streams another customer’s order, nor to anyone unauthenticated', async () => {
    const placed = await system.customer('judy').placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]));
    const other = await system.customer('mallory').streamOrder(placed.body.orderId);
    expect(other.status).toBe(404);
    const anonymous = await system.anonymous.streamOrder(placed.body.orderId);
    expect(anonymous.status).toBe(401);
  });

  it('spends no measurable CPU on idle open streams', async () => {
    const lena = system.customer('lena');
    const placed = await lena.placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]));
    await lena.waitForHistory(placed.body.orderId, ['OrderCompleted', 'StockCommitted']);
    await waitForQuiet(system.cluster);
    const orders = system.cluster.services.orders;
    /** CPU time (user + system) of the orders process over `ms`, in milliseconds. */
    const cpuOver = async (ms: number) => {
      const ticks = () => {
        const fields = readFileSync(`/proc/${orders.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return Number(fields[11]) + Number(fields[12]); // utime, stime
      };
      const start = ticks();
      await new Promise((r) => setTimeout(r, ms));
      return ((ticks() - start) * 1000) / 100; // USER_HZ is 100 on Linux
    };
    const baseline = await cpuOver(5_000);
    const idle = await Promise.all(Array.from({ length: 100 }, () => lena.streamOrder(placed.body.orderId)));
    streams.push(...idle);
    await Promise.all(idle.map((s) => s.waitFor((m) => m.event === 'status')));
    const withStreams = await cpuOver(5_000);
    // 100 open, idle streams: no timer per stream, no polling; under 1% of a core more than none.
    expect(withStreams - baseline).toBeLessThan(50);
    for (const s of idle) s.close();
  });

  it('ends open streams when an instance stops, so it stops within its grace period', async () => {
    const placed = await system.customer('kim').placeOrder(order([{ sku: 'USB-C-HUB', quantity: 1 }]));
    const stream = await secondInstance('kim').streamOrder(placed.body.orderId);
    streams.push(stream);
    await stream.waitFor((m) => m.event === 'status');
    const started = Date.now();
    expect((await second.stop('SIGTERM')).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await stream.waitClosed();
  });

  it('accepts the tokens of an identity provider (JWKS, issuer, audience) instead of its own, when configured', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'idp-key', alg: 'ES256', use: 'sig' };
    const idp = createServer((_, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
    const first = system.cluster.services.orders;
    const log = (name: string) => join(first.logFile, '..', name);

    // Half a configuration stops the process at boot, naming what is missing.
    const half = new ServiceProcess('orders', first.port + 20, { ...first.environment, AUTH_JWKS_URL: jwksUrl }, log('orders-jwks-half.log'));
    half.start();
    await expect(half.waitReady(20_000)).rejects.toThrow(/exited during start-up \(code 78\)/);
    expect(readFileSync(half.logFile, 'utf8')).toMatch(/AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE: required when AUTH_JWKS_URL is set/);

    const withIdp = new ServiceProcess(
      'orders',
      first.port + 20,
      {
        ...first.environment,
        AUTH_JWKS_URL: jwksUrl,
        AUTH_JWT_ISSUER: 'https://id.example',
        AUTH_JWT_AUDIENCE: 'orderflow',
        AUTH_ROLES_CLAIM: 'realm_access.roles',
        AUTH_DEV_TOKENS: 'false',
      },
      log('orders-jwks.log'),
    );
    withIdp.start();
    try {
      await withIdp.waitReady();
      const idpToken = (audience: string, roles: string[] = []) =>
        new SignJWT({ realm_access: { roles } })
          .setProtectedHeader({ alg: 'ES256', kid: 'idp-key' })
          .setSubject('idp-user-1')
          .setIssuer('https://id.example')
          .setAudience(audience)
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey);
      const at = `http://127.0.0.1:${withIdp.port}`;
      expect((await new StorefrontClient(at, idpToken('orderflow')).listOrders()).status).toBe(200);
      const otherApp = await new StorefrontClient(at, idpToken('another-app')).listOrders();
      expect(otherApp.status).toBe(401);
      expect(otherApp.body).toMatchObject({ message: 'token audience is not the expected one' });
      // Roles where this provider writes them (AUTH_ROLES_CLAIM): the operator view opens for its operators only.
      expect((await new StorefrontClient(at, idpToken('orderflow', ['operator'])).request('GET', '/ops/api/services')).status).toBe(200);
      expect((await new StorefrontClient(at, idpToken('orderflow')).request('GET', '/ops/api/services')).status).toBe(403);
      // The service's own HS256 tokens no longer open it.
      expect((await new StorefrontClient(at, system.token('frank')).listOrders()).status).toBe(401);
    } finally {
      await withIdp.stop('SIGTERM');
      idp.close();
    }
  });

  it('holds every invariant once the system is quiet', async () => {
    await system.assertInvariants();
  });
});
