import type { Cluster } from './cluster';

/**
 * The invariants of ARCHITECTURE.md, checked across the four databases once the
 * system is quiet. Returns every violation found (empty = all hold).
 */
export async function checkInvariants(cluster: Cluster): Promise<string[]> {
  const violations: string[] = [];
  const orders = await cluster.query<{ order_id: string; status: string; items: { sku: string; quantity: number }[] }>(
    'orders',
    'SELECT order_id, status, items FROM order_summaries',
  );
  const payments = new Map(
    (await cluster.query<{ order_id: string; status: string }>('payment', 'SELECT order_id, status FROM payments')).map((p) => [p.order_id, p.status]),
  );
  const shipments = new Map(
    (await cluster.query<{ order_id: string; status: string }>('shipping', 'SELECT order_id, status FROM shipments')).map((s) => [s.order_id, s.status]),
  );
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
    if (order.status !== 'COMPLETED' && order.status !== 'CANCELLED') violations.push(`order ${id} is not terminal: ${order.status}`);
    // 5. no event lost: every service saw the order
    if (!payments.has(id)) violations.push(`order ${id} has no payment record`);
    if (!reservations.has(id)) violations.push(`order ${id} has no stock reservation record`);
    if (!shipments.has(id)) violations.push(`order ${id} has no shipment record`);
    if (order.status === 'COMPLETED') {
      // 2. money
      if (payments.get(id) !== 'AUTHORIZED') violations.push(`completed order ${id} payment is ${payments.get(id)}`);
      // 3. stock
      if (reservations.get(id) !== 'StockCommitted') violations.push(`completed order ${id} reservation ends in ${reservations.get(id)}`);
      // 4. shipping
      if (shipments.get(id) !== 'PICKUP_SCHEDULED') violations.push(`completed order ${id} shipment is ${shipments.get(id)}`);
    }
    if (order.status === 'CANCELLED') {
      const payment = payments.get(id);
      if (payment !== 'DECLINED' && payment !== 'REFUNDED') violations.push(`cancelled order ${id} has net charge (payment ${payment})`);
      const reservation = reservations.get(id);
      if (reservation !== 'StockUnavailable' && reservation !== 'StockReleased') {
        violations.push(`cancelled order ${id} still holds stock (reservation ends in ${reservation})`);
      }
      if (shipments.get(id) !== 'CANCELLED') violations.push(`cancelled order ${id} has a live shipment (${shipments.get(id)})`);
    }
  }

  // 3. stock levels add up, and nothing stays reserved once every order is terminal
  for (const s of await cluster.query<{ sku: string; stocked: number; available: number; reserved: number; committed: number }>(
    'inventory',
    'SELECT sku, stocked, available, reserved, committed FROM stock',
  )) {
    if (s.available + s.reserved + s.committed !== s.stocked) violations.push(`sku ${s.sku} levels do not add up: ${JSON.stringify(s)}`);
    if (s.reserved !== 0) violations.push(`sku ${s.sku} still has ${s.reserved} reserved with every order terminal`);
  }
  const committedBySku = new Map<string, number>();
  for (const o of orders.filter((o) => o.status === 'COMPLETED')) {
    for (const item of o.items) committedBySku.set(item.sku, (committedBySku.get(item.sku) ?? 0) + item.quantity);
  }
  for (const s of await cluster.query<{ sku: string; committed: number }>('inventory', 'SELECT sku, committed FROM stock')) {
    if ((committedBySku.get(s.sku) ?? 0) !== s.committed) {
      violations.push(`sku ${s.sku}: committed ${s.committed} but completed orders hold ${committedBySku.get(s.sku) ?? 0}`);
    }
  }

  // 5. none applied twice: each effect at most once per stream
  const twice = async (service: 'orders' | 'payment' | 'inventory' | 'shipping', types: string[]) =>
    cluster.query<{ stream_id: string; type: string; n: string }>(
      service,
      'SELECT stream_id, type, count(*) AS n FROM events WHERE type = ANY($1) GROUP BY stream_id, type HAVING count(*) > 1',
      [types],
    );
  for (const r of [
    ...(await twice('orders', ['OrderPlaced', 'OrderConfirmed', 'OrderCancelled', 'OrderCompleted', 'PaymentAuthorized', 'StockReserved', 'PickupScheduled'])),
    ...(await twice('payment', ['PaymentAuthorized', 'PaymentDeclined', 'PaymentRefunded'])),
    ...(await twice('inventory', ['StockReserved', 'StockUnavailable', 'StockReleased', 'StockCommitted'])),
    ...(await twice('shipping', ['ShipmentPrepared', 'PickupScheduled', 'ShipmentCancelled'])),
  ]) {
    violations.push(`${r.type} applied ${r.n} times in ${r.stream_id}`);
  }
  return violations;
}
