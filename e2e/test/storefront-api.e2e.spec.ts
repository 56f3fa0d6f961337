import { StorefrontClient } from '@orderflow/testkit';
import { order, startSystem, type TestSystem } from './support';

/** What the storefront page is built on: sign-in, "my orders" and the live order stream. */
describe('the storefront API: development sign-in, my orders', () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem(3410, { orders: { AUTH_DEV_TOKENS: 'true' } });
  });

  afterAll(async () => {
    await system?.teardown();
  });

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

  it('holds every invariant once the system is quiet', async () => {
    await system.assertInvariants();
  });
});
