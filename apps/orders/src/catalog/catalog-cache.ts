import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Product } from './product.entity';

/** How old the prices an order is placed with may be. */
const MAX_AGE_MS = 1_000;

/**
 * The catalog as `POST /orders` prices it: read from the table at most once a
 * second instead of once per order. Safe because an order only takes name-free
 * facts from it (that the SKU exists, its price and currency) and the storefront
 * showed the customer a price read earlier still; stock is never decided here
 * (inventory reserves it). `GET /products` reads the table itself.
 */
@Injectable()
export class CatalogCache {
  private products = new Map<string, Product>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async lookup(skus: readonly string[]): Promise<Map<string, Product>> {
    // A SKU not seen yet may have been catalogued a moment ago: it is looked up, not refused.
    if (Date.now() - this.loadedAt > MAX_AGE_MS || skus.some((sku) => !this.products.has(sku))) await this.reload();
    return new Map(skus.flatMap((sku) => (this.products.has(sku) ? [[sku, this.products.get(sku)!] as const] : [])));
  }

  private reload(): Promise<void> {
    this.loading ??= this.dataSource
      .getRepository(Product)
      .find()
      .then((rows) => {
        this.products = new Map(rows.map((p) => [p.sku, p]));
        this.loadedAt = Date.now();
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}
