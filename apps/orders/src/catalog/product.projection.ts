import type { EventEnvelope } from '@orderflow/contracts';
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
  const { sku, available, name, unitPrice, currency } = event.data;
  if (name !== undefined && unitPrice !== undefined && currency !== undefined) {
    await products
      .createQueryBuilder()
      .insert()
      .values({ sku, name, unitPrice, currency, available, updatedAt })
      .orUpdate(['name', 'unit_price', 'currency', 'available', 'updated_at'], ['sku'])
      .execute();
    return;
  }
  await products.update({ sku }, { available, updatedAt });
}
