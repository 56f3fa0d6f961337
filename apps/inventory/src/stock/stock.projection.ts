import { recordsetUpsert, upsertRow, type ProjectionRebuild } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import { evolveProduct, initialProduct, type CataloguedProduct, type ProductEvent, type ProductState } from './stock.decider';
import { type StockView } from './stock.entity';

/**
 * The stock row is a function of the product's state and the time of its last event,
 * written whole, so the live projection and a replay of the stream write the same row.
 */
export async function projectProduct(tx: EntityManager, state: ProductState, events: readonly ProductEvent[]): Promise<void> {
  const last = events.at(-1);
  if (!state.catalogued || !last) return;
  // In a consumer batch, one row per SKU however many orders touched it.
  await upsertRow(tx, stock, state.sku, stockRow(state, last));
}

const stock = recordsetUpsert<StockView>('stock', 'sku', [
  { name: 'sku', type: 'text', value: (r) => r.sku },
  { name: 'name', type: 'text', value: (r) => r.name },
  { name: 'unit_price', type: 'bigint', value: (r) => r.unitPrice },
  { name: 'currency', type: 'text', value: (r) => r.currency },
  { name: 'stocked', type: 'integer', value: (r) => r.stocked },
  { name: 'available', type: 'integer', value: (r) => r.available },
  { name: 'reserved', type: 'integer', value: (r) => r.reserved },
  { name: 'committed', type: 'integer', value: (r) => r.committed },
  { name: 'updated_at', type: 'timestamptz', value: (r) => r.updatedAt },
]);

function stockRow(state: CataloguedProduct, last: ProductEvent): StockView {
  return {
    sku: state.sku,
    name: state.name,
    unitPrice: state.unitPrice,
    currency: state.currency,
    stocked: state.stocked,
    available: state.available,
    reserved: state.reserved,
    committed: state.committed,
    updatedAt: new Date(last.type === 'StockLevelChanged' ? last.data.changedAt : last.data.cataloguedAt),
  };
}

/** Rebuilds the stock table from the product streams, row by row as the live projection writes it. */
export const stockProjection: ProjectionRebuild = {
  table: 'stock',
  streamPrefix: 'product-',
  project: (tx, _stream, envelopes) => {
    const events = envelopes as ProductEvent[];
    return projectProduct(tx, events.reduce(evolveProduct, initialProduct()), events);
  },
};
