import type { EventEnvelope } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';
import { Product } from './product.entity';

/** Keeps the storefront's catalog in step with inventory; events of one SKU arrive in order. */
export async function projectProductEvent(
  tx: EntityManager,
  event: EventEnvelope<'ProductCatalogued'> | EventEnvelope<'StockLevelChanged'>,
): Promise<void> {
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
  const result = await products.update({ sku: event.data.sku }, { available: event.data.available, updatedAt });
  if (result.affected === 0) throw new Error(`stock level for uncatalogued sku ${event.data.sku}`);
}
