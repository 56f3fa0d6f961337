'use strict';
// The order mix of the bench: 4 SKUs, 1-3 lines per order, 10 % declined.
// Deterministic in the order number, so two runs offer the same orders.

const SKUS = ['BENCH-A', 'BENCH-B', 'BENCH-C', 'BENCH-D'];
const MAX_QUANTITY = 2;

const ADDRESS = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };

/** A small integer hash (mulberry32 step): spreads line counts and SKUs without Math.random. */
function mix(n) {
  let t = (n + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** The n-th order: 1-3 distinct SKUs, quantity 1-2 each; every tenth declines. */
function orderNumber(n) {
  const h = mix(n);
  const lines = 1 + (h % 3);
  const first = (h >>> 2) % SKUS.length;
  const items = [];
  for (let k = 0; k < lines; k++)
    items.push({ sku: SKUS[(first + k) % SKUS.length], quantity: 1 + ((h >>> (4 + k)) % MAX_QUANTITY) });
  return { items, payment: { token: n % 10 === 9 ? 'tok_declined' : 'tok_visa' }, shippingAddress: ADDRESS };
}

/** Units of one SKU the given number of orders can take at most: the catalog must hold that. */
const worstCaseUnitsPerSku = (orders) => orders * MAX_QUANTITY;

module.exports = { SKUS, orderNumber, worstCaseUnitsPerSku };
