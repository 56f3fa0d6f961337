import type { EventEnvelope } from '@orderflow/contracts';
import { settleRow, recordsetUpsert, upsertRow } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import type { Product } from './product.entity';

export type ProductEvent = EventEnvelope<'ProductCatalogued'> | EventEnvelope<'StockLevelChanged'>;

/**
 * Keeps the storefront's catalog in step with inventory; events of one SKU arrive
 * in order. A StockLevelChanged carrying the product's name and price is its whole
 * catalog entry and makes the row whatever it was before: on the compacted
 * `inventory.products` the ProductCatalogued may be long gone. One recorded before
 * those fields existed only moves the levels of a row already there; without a row
 * it is skipped, and the next full-state message of that SKU brings the product in.
 *
 * A message older than the row (by event time, `updated_at`) changes nothing. Events
 * of one SKU are published in order, but the order can break on the way: ElasticMQ,
 * once restarted, delivers a FIFO group's next message before one that was in flight
 * at its crash (see e2e/chaos/settings.ts), and the catalog then stayed at a level
 * inventory had already replaced.
 */
export async function projectProductEvent(tx: EntityManager, event: ProductEvent): Promise<void> {
  const updatedAt = new Date(event.time);
  const { sku } = event.data;
  if (event.type === 'StockLevelChanged') {
    const { available, name, unitPrice, currency } = event.data;
    // In a consumer batch, one row per SKU: only the last level of the batch is written.
    if (name !== undefined && unitPrice !== undefined && currency !== undefined) return upsertRow(tx, wholeRows, sku, { sku, name, unitPrice, currency, available, updatedAt });
  }
  // The statements below build on the row as stored: a whole row waiting in the batch goes first.
  await settleRow(tx, wholeRows, sku);
  if (event.type === 'ProductCatalogued') {
    const { sku, name, unitPrice, currency } = event.data;
    await tx.query(
      `INSERT INTO products (sku, name, unit_price, currency, available, updated_at) VALUES ($1, $2, $3, $4, 0, $5)
       ON CONFLICT (sku) DO UPDATE SET name = excluded.name, unit_price = excluded.unit_price, currency = excluded.currency, updated_at = excluded.updated_at
       WHERE products.updated_at <= excluded.updated_at`,
      [sku, name, unitPrice, currency, updatedAt],
    );
    return;
  }
  await tx.query('UPDATE products SET available = $2, updated_at = $3 WHERE sku = $1 AND updated_at <= $3', [sku, event.data.available, updatedAt]);
}

const wholeRows = recordsetUpsert<Product>('products', 'sku', [
  { name: 'sku', type: 'text', value: (p) => p.sku },
  { name: 'name', type: 'text', value: (p) => p.name },
  { name: 'unit_price', type: 'bigint', value: (p) => p.unitPrice },
  { name: 'currency', type: 'text', value: (p) => p.currency },
  { name: 'available', type: 'integer', value: (p) => p.available },
  { name: 'updated_at', type: 'timestamptz', value: (p) => p.updatedAt },
], { unlessOlder: 'updated_at' });
