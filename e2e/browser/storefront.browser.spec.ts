import { join } from 'node:path';
import { REPO_ROOT, publishPoisonOrderPlaced } from '@orderflow/testkit';
import type { Page } from 'playwright-core';
import { startSystem, type TestSystem } from '../test/support';
import { launchBrowser, type Browser } from './browser';
import { eventually, seeAttribute, seeCount, seeText } from './eventually';

// Under .cache so a test run leaves the checkout clean; ORDERFLOW_SCREENSHOTS=docs renews the README's pictures.
const SCREENSHOTS = join(REPO_ROOT, process.env['ORDERFLOW_SCREENSHOTS'] === 'docs' ? 'docs/screenshots' : '.cache/screenshots');

describe('the storefront in a browser', () => {
  let system: TestSystem;
  let browser: Browser;

  beforeAll(async () => {
    const others = `payment=http://127.0.0.1:3441,inventory=http://127.0.0.1:3442,shipping=http://127.0.0.1:3443`;
    [system, browser] = await Promise.all([startSystem(3440, { orders: { AUTH_DEV_TOKENS: 'true', OPS_SERVICE_URLS: others } }), launchBrowser()]);
  });

  afterAll(async () => {
    await browser?.close();
    await system?.teardown();
  });

  const url = () => system.cluster.url('orders');

  /** A new tab signed in as a demo customer through the page's own sign-in form, from the keyboard. */
  async function signIn(customerId: string): Promise<Page> {
    const page = await browser.context.newPage();
    await page.goto(`${url()}/`);
    const id = page.getByLabel('Customer id');
    await id.fill(customerId);
    await id.press('Enter');
    await page.getByRole('heading', { name: 'Shop' }).waitFor();
    await page.getByRole('button', { name: 'Add Mechanical keyboard to cart' }).waitFor();
    return page;
  }

  async function addToCart(page: Page, product: string, quantity: number): Promise<void> {
    await page.getByLabel(`Quantity of ${product}`).fill(String(quantity));
    await page.getByRole('button', { name: `Add ${product} to cart` }).click();
  }

  async function placeOrder(page: Page, paymentMethod = 'Card that approves (tok_visa)'): Promise<string> {
    await page.getByLabel(paymentMethod).check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/#\/orders\/.+/);
    return decodeURIComponent(new URL(page.url()).hash.replace('#/orders/', ''));
  }

  const lane = (page: Page, name: string) => page.locator(`[data-lane="${name}"]`);
  const entry = (page: Page, service: string, type: string) => lane(page, service).locator(`li[data-type="${type}"]`);
  const statusLine = (page: Page) => page.getByRole('status').filter({ hasText: 'Status:' });
  const statusIs = (page: Page, status: string) => seeText(statusLine(page), status, 60_000);

  it('signs in, places an order with one click or two, and watches its timeline reach COMPLETED without reloading', async () => {
    const page = await signIn('alice');
    await seeText(page.locator('[data-available="KB-MECH-01"]'), 'available');
    await addToCart(page, 'Mechanical keyboard', 1);
    await addToCart(page, 'Wireless mouse', 2);
    await seeText(page.getByRole('list', { name: 'Cart contents' }), '2 × Wireless mouse');
    await page.screenshot({ path: join(SCREENSHOTS, 'storefront.png'), fullPage: true, animations: 'disabled' });

    await page.evaluate('window.marker = "same page"');
    await page.getByLabel('Card that approves (tok_visa)').check();
    // A double click sends the checkout's Idempotency-Key twice at most: one order.
    await page.getByRole('button', { name: 'Place order' }).dblclick();
    await page.waitForURL(/#\/orders\/.+/);
    const orderId = decodeURIComponent(new URL(page.url()).hash.replace('#/orders/', ''));

    await statusIs(page, 'COMPLETED');
    for (const [service, type] of [
      ['orders', 'OrderPlaced'],
      ['payment', 'PaymentAuthorized'],
      ['inventory', 'StockReserved'],
      ['shipping', 'ShipmentPrepared'],
      ['orders', 'OrderConfirmed'],
      ['shipping', 'PickupScheduled'],
      ['orders', 'OrderCompleted'],
      ['inventory', 'StockCommitted'],
    ] as const) {
      await seeCount(entry(page, service, type), 1, 30_000);
    }
    await page.getByRole('button', { name: 'Cancel order' }).waitFor({ state: 'hidden' });
    expect(await page.evaluate('window.marker')).toBe('same page');
    const history = (await system.customer('alice').getOrder(orderId)).body.history;
    await seeCount(page.locator('[data-lane] li'), history.length);
    await page.screenshot({ path: join(SCREENSHOTS, 'order-timeline.png'), fullPage: true, animations: 'disabled' });

    const mine = (await system.customer('alice').listOrders()).body.orders;
    expect(mine.map((o) => o.orderId)).toEqual([orderId]);
    await page.getByRole('link', { name: 'My orders' }).click();
    await seeCount(page.getByRole('list', { name: 'Your orders' }).getByRole('listitem'), 1);
    await page.getByRole('link', { name: `Order ${orderId.slice(0, 8)}` }).waitFor({ state: 'visible' });
    await page.close();
  });

  it('shows a refused field next to it, and places the order once it is corrected', async () => {
    const page = await signIn('carol');
    await addToCart(page, 'LED desk lamp', 1);
    await page.getByLabel('Postal code').fill('');
    await page.getByLabel('Country').fill('uk');
    await page.getByRole('button', { name: 'Place order' }).click();
    await seeText(page.locator('#ship-postal-error'), 'Postal code');
    await seeAttribute(page.getByLabel('Postal code'), 'aria-invalid', 'true');
    await seeText(page.locator('#ship-country-error'), 'Country');
    await seeAttribute(page.getByLabel('Name'), 'aria-invalid', null);
    expect((await system.customer('carol').listOrders()).body.orders).toEqual([]);

    await page.getByLabel('Postal code').fill('10115');
    await page.getByLabel('Country').fill('DE');
    await placeOrder(page);
    await statusIs(page, 'COMPLETED');
    await page.close();
  });

  it('shows the cancellation and compensation of a declined payment', async () => {
    const page = await signIn('dave');
    await addToCart(page, '27" 4K monitor', 1);
    await placeOrder(page, 'Card that is declined (tok_declined)');
    await statusIs(page, 'CANCELLED');
    await seeText(statusLine(page), 'the payment was declined');
    await seeCount(entry(page, 'payment', 'PaymentDeclined'), 1);
    await seeCount(entry(page, 'orders', 'OrderCancelled'), 1);
    await seeCount(entry(page, 'inventory', 'StockReleased'), 1, 30_000);
    await seeCount(entry(page, 'shipping', 'ShipmentCancelled'), 1, 30_000);
    await page.close();
  });

  it('shows the cancellation and compensation of an order for more than the stock', async () => {
    const page = await signIn('erin');
    await addToCart(page, 'Limited edition graphics card', 5);
    await placeOrder(page);
    await statusIs(page, 'CANCELLED');
    await seeText(statusLine(page), 'an item is out of stock');
    await seeCount(entry(page, 'inventory', 'StockUnavailable'), 1);
    await seeCount(entry(page, 'payment', 'PaymentRefunded'), 1, 30_000);
    await seeCount(entry(page, 'shipping', 'ShipmentCancelled'), 1, 30_000);
    await page.close();
  });

  it('cancels an order from its page while cancelling is allowed', async () => {
    // Without shipping the pickup never comes: the order waits in CONFIRMED.
    await system.cluster.services.shipping.stop('SIGTERM');
    const page = await signIn('frank');
    try {
      await addToCart(page, 'USB-C hub, 7 ports', 1);
      await placeOrder(page);
      await statusIs(page, 'CONFIRMED');
      await page.getByRole('button', { name: 'Cancel order' }).click();
      await statusIs(page, 'CANCELLED');
      await seeText(statusLine(page), 'you cancelled it');
      await page.getByRole('button', { name: 'Cancel order' }).waitFor({ state: 'hidden' });
      await seeCount(entry(page, 'payment', 'PaymentRefunded'), 1, 30_000);
      await seeCount(entry(page, 'inventory', 'StockReleased'), 1, 30_000);
    } finally {
      await system.cluster.start(['shipping']);
    }
    await seeCount(entry(page, 'shipping', 'ShipmentCancelled'), 1, 60_000);
    await page.close();
  });

  it('explains a 409 when the order can no longer be cancelled', async () => {
    await system.cluster.services.shipping.stop('SIGTERM');
    const page = await signIn('nora');
    try {
      // The page hears nothing live (its stream is cut), so it still offers to cancel
      // an order that was cancelled meanwhile elsewhere.
      await page.route('**/orders/*/stream', (route) => route.abort());
      await addToCart(page, 'LED desk lamp', 1);
      const orderId = await placeOrder(page);
      await page.getByRole('button', { name: 'Cancel order' }).waitFor();
      expect((await system.customer('nora').cancel(orderId)).status).toBe(202);
      await page.getByRole('button', { name: 'Cancel order' }).click();
      await seeText(page.getByRole('alert').filter({ hasText: 'cancelled' }), 'This order can no longer be cancelled');
      await seeText(page.getByRole('alert').filter({ hasText: 'cancelled' }), 'CANCELLED');
    } finally {
      await page.unrouteAll();
      await system.cluster.start(['shipping']);
    }
    await page.close();
  });

  it('shows a lost connection and recovers the live timeline after the orders service restarts', async () => {
    await system.cluster.services.shipping.stop('SIGTERM');
    const page = await signIn('grace');
    let orderId: string;
    try {
      await addToCart(page, 'Wireless mouse', 1);
      orderId = await placeOrder(page);
      await statusIs(page, 'CONFIRMED');
      await page.evaluate('window.marker = "same page"');
      await system.cluster.services.orders.stop('SIGTERM');
      await seeText(page.locator('#connection'), 'Connection to Orderflow lost', 15_000);
    } finally {
      await system.cluster.start(['orders', 'shipping']);
    }
    await seeText(page.locator('#connection'), 'Connection restored', 30_000);
    await statusIs(page, 'COMPLETED');
    await seeCount(entry(page, 'shipping', 'PickupScheduled'), 1);
    expect(await page.evaluate('window.marker')).toBe('same page');
    // Resumed after the last event it had: nothing shown twice, nothing missing.
    const history = (await system.customer('grace').waitForHistory(orderId, ['StockCommitted'])).history;
    await seeCount(page.locator('[data-lane] li'), history.length, 15_000);
    await page.close();
  });

  it('shows a second customer none of the first one’s orders, on the page and through the API', async () => {
    const alicesOrder = (await system.customer('alice').listOrders()).body.orders[0]!.orderId;
    const page = await signIn('mallory');
    await page.getByRole('link', { name: 'My orders' }).click();
    await page.getByText('You have no orders yet.').waitFor({ state: 'visible' });
    await page.goto(`${url()}/#/orders/${alicesOrder}`);
    await page.getByRole('heading', { name: 'Order not found' }).waitFor({ state: 'visible' });
    expect((await system.customer('mallory').listOrders()).body.orders).toEqual([]);
    expect((await system.customer('mallory').getOrder(alicesOrder)).status).toBe(404);
    expect((await system.customer('mallory').streamOrder(alicesOrder)).status).toBe(404);
    await page.close();
  });

  it('shows stock changing live as other customers order, without reloading', async () => {
    const page = await signIn('ivan');
    const lamps = page.locator('[data-available="DESK-LAMP"]');
    const before = Number(/(\d+) available/.exec(await lamps.innerText())![1]);
    const placed = await system.customer('judy').placeOrder({
      items: [{ sku: 'DESK-LAMP', quantity: 3 }],
      payment: { token: 'tok_visa' },
      shippingAddress: { name: 'Judy', line1: '1 Main St', city: 'Paris', postalCode: '75001', country: 'FR' },
    });
    expect(placed.status).toBe(202);
    await seeText(lamps, `${before - 3} available`, 20_000);
    await page.close();
  });

  it('gives every control an accessible name and works from the keyboard', async () => {
    const page = await signIn('kate');
    const unnamed = await page.evaluate<string[]>(`[...document.querySelectorAll('button, input, select, textarea, a[href]')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim() || el.closest('label')))
      .map((el) => el.outerHTML)`);
    expect(unnamed).toEqual([]);
    // Only the keyboard: focus moves with Tab, buttons act on Enter, the form submits on Enter.
    await page.getByLabel('Quantity of LED desk lamp').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.getAttribute("aria-label")')).toBe('Add LED desk lamp to cart');
    await page.keyboard.press('Enter');
    await seeText(page.getByRole('list', { name: 'Cart contents' }), '1 × LED desk lamp');
    await page.getByLabel('City').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/orders\/.+/);
    await statusIs(page, 'COMPLETED');
    await page.close();
  });

  it('fits a phone screen and loads nothing from outside its own origin', async () => {
    const page = await browser.context.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(url()) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url()}/`);
    await page.getByLabel('Customer id').fill('heidi');
    await page.getByRole('button', { name: 'Sign in as demo customer' }).click();
    await page.getByRole('button', { name: 'Add Mechanical keyboard to cart' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'storefront-phone.png'), fullPage: true, animations: 'disabled' });
    expect(foreign).toEqual([]);
    const response = await page.request.get(`${url()}/`);
    expect(response.headers()['content-security-policy']).toContain("default-src 'self'");
    await page.close();
  });

  it('refuses the operator view to a customer token (403), and to no token (401)', async () => {
    const page = await signIn('alice');
    await page.goto(`${url()}/ops`);
    await page.getByRole('heading', { name: 'Operators only' }).waitFor();
    await seeText(page.getByRole('alert'), '403');
    expect((await system.customer('alice').request('GET', '/ops/api/services')).status).toBe(403);
    expect((await system.customer('alice').request('GET', '/ops/api/dead-letters')).status).toBe(403);
    expect((await system.anonymous.request('GET', '/ops/api/services')).status).toBe(401);
    await page.close();
  });

  it('shows an operator each service’s health, lag and outbox, and redrives dead letters by filter', async () => {
    // Parked by payment, inventory and shipping: three letters in orders.events.dlq.
    await publishPoisonOrderPlaced(system.cluster, 'poison-for-ops');
    const page = await browser.context.newPage();
    await page.goto(`${url()}/ops`);
    await page.getByLabel('Operator id').fill('olga');
    await page.getByRole('button', { name: 'Sign in as demo operator' }).click();
    for (const service of ['orders', 'payment', 'inventory', 'shipping']) {
      await seeText(page.locator(`tr[data-service="${service}"] td[data-health]`), 'up');
      await eventually(async () => expect(await page.locator(`tr[data-service="${service}"] td[data-lag]`).innerText()).toMatch(/^\d+$/));
      await eventually(async () => expect(await page.locator(`tr[data-service="${service}"] td[data-outbox]`).innerText()).toMatch(/^\d+$/));
    }
    const letters = page.locator('tr[data-letter]');
    await eventually(async () => {
      await page.getByRole('button', { name: 'Show dead letters' }).click();
      await seeCount(letters, 3, 1_000);
    });
    await page.getByLabel('Consumer group').fill('payment');
    await page.getByRole('button', { name: 'Show dead letters' }).click();
    await seeCount(letters, 1);
    await seeText(letters.first(), 'OrderPlaced data is invalid');

    // Redrive needs a topic: the 400 is shown next to the Topic field.
    await page.getByRole('button', { name: 'Dry run redrive' }).click();
    await seeAttribute(page.getByLabel('Topic'), 'aria-invalid', 'true');
    await seeText(page.locator('#dlq-topic-error'), 'Topic');

    await page.getByLabel('Topic').selectOption('orders.events');
    await page.getByRole('button', { name: 'Dry run redrive' }).click();
    await seeText(page.getByRole('status').filter({ hasText: 'Dry run' }), 'Dry run: 1 letter would be redriven');
    await page.getByRole('button', { name: 'Redrive matching letters' }).click();
    await seeText(page.getByRole('status').filter({ hasText: 'Redriven' }), 'Redriven 1 letter');
    // Still invalid, the redriven event is parked again by payment only: one letter redriven, one new.
    await eventually(async () => {
      await page.getByRole('button', { name: 'Show dead letters' }).click();
      await seeCount(letters, 2, 1_000);
    });
    await seeCount(letters.filter({ hasText: 'redriven' }), 1);
    await page.screenshot({ path: join(SCREENSHOTS, 'operator-view.png'), fullPage: true, animations: 'disabled' });
    await page.close();
  });

  it('holds every invariant once the system is quiet, with only the deliberately parked letters', async () => {
    // The poison OrderPlaced: parked by three groups, then once more by payment after its redrive.
    await system.assertInvariants({ expectedDeadLetters: { 'orders.events': 4 } });
  });
});
