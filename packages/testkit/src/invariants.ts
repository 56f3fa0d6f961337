import { ALL_TOPICS, dlqTopicOf } from '@orderflow/contracts';
import type { DeadLetter } from '@orderflow/messaging';
import type { Cluster } from './cluster';
import { testTransport } from './broker';
import { SERVICES } from './service-process';

export interface InvariantOptions {
  /**
   * Letters a test parked on purpose, by source topic without prefix
   * (`{ 'orders.events': 3 }`). Every other dead-letter topic must be empty, and
   * these must hold exactly that many: more would be a real failure hiding
   * behind the deliberate one.
   */
  expectedDeadLetters?: Partial<Record<string, number>>;
}

/**
 * Event types that legitimately occur many times in one stream: a product's
 * stream gets a `StockLevelChanged` per consumer batch that moved it (one order's
 * change carries its order id; a batch of several carries none) and per restock.
 * Their "applied once" rule is per (stream, cause, order), checked apart.
 */
const REPEATABLE_EVENT_TYPES = ['StockLevelChanged'];

type OrderRow = { order_id: string; status: string; items: { sku: string; quantity: number }[] };
type StatusRow = { order_id: string; status: string };
type StockRow = {
  sku: string;
  name: string;
  unit_price: string;
  currency: string;
  stocked: number;
  available: number;
  reserved: number;
  committed: number;
};
type ProductRow = { sku: string; name: string; unit_price: string; currency: string; available: number };

/**
 * The system's invariants, checked across the four databases and the broker once
 * the system is quiet (docs/invariants.md explains each and why it holds).
 * Returns every violation found, each a sentence naming what broke (empty = all hold).
 *
 * 1. every accepted order is in exactly one terminal state;
 * 2. money: a COMPLETED order was authorized and never refunded; a CANCELLED one
 *    has no net charge (declined, refunded, or voided before any charge);
 * 3. stock: per SKU available + reserved + committed = stocked, nothing stays
 *    reserved, committed equals what COMPLETED orders hold; a CANCELLED order's
 *    reservation ends unavailable, released or voided;
 * 4. shipping: a pickup for every COMPLETED order, no live shipment for a CANCELLED one;
 * 5. no event lost (every service has a record of every order) and no effect
 *    applied twice in any service's log;
 * 6. nothing parked: every dead-letter topic of the cluster's prefix is empty,
 *    apart from the letters a test declares in `expectedDeadLetters`;
 * 7. read models converge: the storefront catalog (orders' `products`) equals
 *    inventory's `stock` for every SKU (same SKUs, name, price, currency, available).
 */
export async function checkInvariants(cluster: Cluster, options: InvariantOptions = {}): Promise<string[]> {
  return (await checkInvariantsByRule(cluster, options)).flatMap((r) => r.violations);
}

export interface RuleResult {
  rule: string;
  violations: string[];
}

/** The same checks as `checkInvariants`, grouped by rule, so a report can say which held. */
export async function checkInvariantsByRule(cluster: Cluster, options: InvariantOptions = {}): Promise<RuleResult[]> {
  return [
    {
      rule: 'orders terminal; money, stock and shipping agree with each order; no order lost',
      violations: await checkOrders(cluster),
    },
    { rule: 'stock levels add up, nothing left reserved', violations: await checkStock(cluster) },
    { rule: 'no effect applied twice in any service', violations: await checkNothingTwice(cluster) },
    { rule: 'storefront catalog equals inventory stock', violations: await checkCatalogEqualsStock(cluster) },
    { rule: 'dead-letter topics empty', violations: await checkDeadLetters(cluster, options.expectedDeadLetters ?? {}) },
  ];
}

async function statusByOrder(cluster: Cluster, service: 'payment' | 'shipping', table: string): Promise<Map<string, string>> {
  return new Map(
    (await cluster.query<StatusRow>(service, `SELECT order_id, status FROM ${table}`)).map((r) => [r.order_id, r.status]),
  );
}

async function checkOrders(cluster: Cluster): Promise<string[]> {
  const violations: string[] = [];
  const orders = await cluster.query<OrderRow>('orders', 'SELECT order_id, status, items FROM order_summaries');
  const payments = await statusByOrder(cluster, 'payment', 'payments');
  const shipments = await statusByOrder(cluster, 'shipping', 'shipments');
  const reservations = new Map(
    (
      await cluster.query<{ stream_id: string; type: string }>(
        'inventory',
        `SELECT DISTINCT ON (stream_id) stream_id, type FROM events WHERE stream_id LIKE 'reservation-%' ORDER BY stream_id, stream_version DESC`,
      )
    ).map((r) => [r.stream_id.slice('reservation-'.length), r.type]),
  );

  for (const order of orders) {
    const id = order.order_id;
    // 1. exactly one terminal state
    if (order.status !== 'COMPLETED' && order.status !== 'CANCELLED')
      violations.push(`order ${id} is not terminal: ${order.status}`);
    // 5. no event lost: every service saw the order
    if (!payments.has(id)) violations.push(`order ${id} has no payment record`);
    if (!reservations.has(id)) violations.push(`order ${id} has no stock reservation record`);
    if (!shipments.has(id)) violations.push(`order ${id} has no shipment record`);
    const payment = payments.get(id);
    const reservation = reservations.get(id);
    const shipment = shipments.get(id);
    if (order.status === 'COMPLETED') {
      // 2. money, 3. stock, 4. shipping
      if (payment !== 'AUTHORIZED') violations.push(`completed order ${id} payment is ${payment}`);
      if (reservation !== 'StockCommitted') violations.push(`completed order ${id} reservation ends in ${reservation}`);
      if (shipment !== 'PICKUP_SCHEDULED') violations.push(`completed order ${id} shipment is ${shipment}`);
    }
    if (order.status === 'CANCELLED') {
      // A tombstone (VOIDED / ReservationVoided) is compensation that arrived before the action.
      if (payment !== 'DECLINED' && payment !== 'REFUNDED' && payment !== 'VOIDED')
        violations.push(`cancelled order ${id} has net charge (payment ${payment})`);
      if (reservation !== 'StockUnavailable' && reservation !== 'StockReleased' && reservation !== 'ReservationVoided') {
        violations.push(`cancelled order ${id} still holds stock (reservation ends in ${reservation})`);
      }
      if (shipment !== 'CANCELLED' && shipment !== 'VOIDED')
        violations.push(`cancelled order ${id} has a live shipment (${shipment})`);
    }
  }

  // 3. committed stock is exactly what completed orders hold
  const committedBySku = new Map<string, number>();
  for (const o of orders.filter((o) => o.status === 'COMPLETED')) {
    for (const item of o.items) committedBySku.set(item.sku, (committedBySku.get(item.sku) ?? 0) + item.quantity);
  }
  for (const s of await cluster.query<{ sku: string; committed: number }>('inventory', 'SELECT sku, committed FROM stock')) {
    if ((committedBySku.get(s.sku) ?? 0) !== s.committed) {
      violations.push(`sku ${s.sku}: committed ${s.committed} but completed orders hold ${committedBySku.get(s.sku) ?? 0}`);
    }
  }
  return violations;
}

async function checkStock(cluster: Cluster): Promise<string[]> {
  const violations: string[] = [];
  // 3. stock levels add up, and nothing stays reserved once every order is terminal
  for (const s of await cluster.query<StockRow>('inventory', 'SELECT sku, stocked, available, reserved, committed FROM stock')) {
    if (s.available + s.reserved + s.committed !== s.stocked)
      violations.push(`sku ${s.sku} levels do not add up: ${JSON.stringify(s)}`);
    if (s.reserved !== 0) violations.push(`sku ${s.sku} still has ${s.reserved} reserved with every order terminal`);
  }
  return violations;
}

/** 5. none applied twice: every effect at most once per stream, in every service's log. */
async function checkNothingTwice(cluster: Cluster): Promise<string[]> {
  const violations: string[] = [];
  for (const service of SERVICES) {
    for (const r of await cluster.query<{ stream_id: string; type: string; n: string }>(
      service,
      'SELECT stream_id, type, count(*) AS n FROM events WHERE type <> ALL($1) GROUP BY stream_id, type HAVING count(*) > 1',
      [REPEATABLE_EVENT_TYPES],
    )) {
      violations.push(`${r.type} applied ${r.n} times in ${service}'s stream ${r.stream_id}`);
    }
  }
  // A stock movement caused by an order happens once per product and cause.
  for (const r of await cluster.query<{ stream_id: string; cause: string; order_id: string; n: string }>(
    'inventory',
    `SELECT stream_id, data->>'cause' AS cause, data->>'orderId' AS order_id, count(*) AS n FROM events
      WHERE type = 'StockLevelChanged' AND data ? 'orderId'
      GROUP BY stream_id, data->>'cause', data->>'orderId' HAVING count(*) > 1`,
  )) {
    violations.push(`StockLevelChanged ${r.cause} for order ${r.order_id} applied ${r.n} times in ${r.stream_id}`);
  }
  return violations;
}

/** 7. the storefront's catalog is a projection of inventory's stock: once quiet, they are equal. */
async function checkCatalogEqualsStock(cluster: Cluster): Promise<string[]> {
  const violations: string[] = [];
  const stock = new Map(
    (await cluster.query<StockRow>('inventory', 'SELECT sku, name, unit_price, currency, available FROM stock')).map((s) => [
      s.sku,
      s,
    ]),
  );
  const catalog = new Map(
    (await cluster.query<ProductRow>('orders', 'SELECT sku, name, unit_price, currency, available FROM products')).map((p) => [
      p.sku,
      p,
    ]),
  );
  for (const [sku, s] of stock) {
    const p = catalog.get(sku);
    if (!p) {
      violations.push(`sku ${sku} is in inventory's stock but not in the storefront catalog`);
      continue;
    }
    for (const field of ['available', 'name', 'unit_price', 'currency'] as const) {
      if (String(p[field]) !== String(s[field])) {
        violations.push(`storefront catalog ${sku}.${field} is ${p[field]} but inventory's stock says ${s[field]}`);
      }
    }
  }
  for (const sku of catalog.keys()) {
    if (!stock.has(sku)) violations.push(`sku ${sku} is in the storefront catalog but not in inventory's stock`);
  }
  return violations;
}

/**
 * 6. nothing parked: every dead letter the broker holds for the cluster's topics
 * (on Kafka every letter ever written, redriven or not: a redriven letter still
 * means an event failed to apply).
 */
async function checkDeadLetters(cluster: Cluster, expected: Partial<Record<string, number>>): Promise<string[]> {
  const violations: string[] = [];
  const prefix = cluster.options.topicPrefix;
  for (const topic of Object.keys(expected)) {
    if (!(ALL_TOPICS as readonly string[]).includes(topic)) violations.push(`expectedDeadLetters names ${topic}, which is not a topic of the system`);
  }
  const transport = testTransport(prefix, 'orderflow-invariants');
  try {
    const letters = await transport.listDeadLetters({ topics: ALL_TOPICS });
    for (const topic of ALL_TOPICS) {
      const parked = letters.filter((l) => l.topic === topic);
      const want = expected[topic] ?? 0;
      if (parked.length !== want) {
        violations.push(`${prefix}${dlqTopicOf(topic)} holds ${parked.length} dead letter(s), expected ${want}${describeLetters(parked)}`);
      }
    }
  } finally {
    await transport.close();
  }
  return violations;
}

/** Why the letters were parked, so a failing check says what to fix. */
function describeLetters(letters: readonly DeadLetter[]): string {
  const reasons = new Map<string, number>();
  for (const l of letters) {
    const reason = `group ${l.group ?? '?'}: ${l.type ?? '?'}: ${l.error ?? '?'}`;
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return top.length ? ` — ${top.map(([reason, n]) => `${n}× ${reason.slice(0, 300)}`).join('; ')}` : '';
}
