import type { EventEnvelope } from '@orderflow/contracts';
import { settleRow, unnestUpsert, upsertRow } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { Product } from './product.entity';

export type ProductEvent = EventEnvelope<'ProductCatalogued'> | EventEnvelope<'StockLevelChanged'>;

/**
 * Keeps the storefront's catalog in step with inventory; events of one SKU arrive
 * in order. A StockLevelChanged carrying the product's name and price is its whole
 * catalog entry and makes the row whatever it was before: on the compacted
 * `inventory.products` the ProductCatalogued may be long gone. One recorded before
 * those fields existed only moves the levels of a row already there; without a row
 * it is skipped, and the next full-state message of that SKU brings the product in.
 */
export async function projectProductEvent(tx: EntityManager, event: ProductEvent): Promise<void> {
  const products = tx.getRepository(Product);
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
    await products
      .createQueryBuilder()
      .insert()
      .values({ sku, name, unitPrice, currency, available: 0, updatedAt })
      .orUpdate(['name', 'unit_price', 'currency', 'updated_at'], ['sku'])
      .execute();
    return;
  }
  await products.update({ sku }, { available: event.data.available, updatedAt });
}

const wholeRows = unnestUpsert<Product>('products', 'sku', [
  { name: 'sku', type: 'text', value: (p) => p.sku },
  { name: 'name', type: 'text', value: (p) => p.name },
  { name: 'unit_price', type: 'bigint', value: (p) => p.unitPrice },
  { name: 'currency', type: 'text', value: (p) => p.currency },
  { name: 'available', type: 'integer', value: (p) => p.available },
  { name: 'updated_at', type: 'timestamptz', value: (p) => p.updatedAt },
]);
