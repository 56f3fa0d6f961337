import { createEvent, validateEventData, type EventEnvelope } from '@orderflow/contracts';
import { appendToStream, inTransaction, rebuildProjection, withEventBatch } from '@orderflow/eventstore';
import type { DataSource } from 'typeorm';
import { StockView } from '../src/stock/stock.entity';
import { catalogueProduct, reactToOrderEvent } from '../src/stock/stock.handler';
import { stockProjection } from '../src/stock/stock.projection';
import { createTestDatabase, streamEvents, type TestDatabase } from './support';

const SOURCE = 'orderflow/it-inventory';
const t = (minute: number): Date => new Date(Date.UTC(2025, 10, 20, 10, minute));

const placed = (orderId: string, items: { sku: string; quantity: number }[]): EventEnvelope<'OrderPlaced'> =>
  createEvent(
    'OrderPlaced',
    {
      orderId,
      customerId: 'customer-1',
      items: items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPrice: 100 })),
      total: 100,
      currency: 'EUR',
      payment: { token: 'tok_visa' },
      shippingAddress: { name: 'Ada', line1: '1 Main St', city: 'London', postalCode: 'N1', country: 'GB' },
      placedAt: t(0).toISOString(),
    },
    { source: SOURCE, time: t(0) },
  );
const cancelled = (orderId: string): EventEnvelope<'OrderCancelled'> =>
  createEvent('OrderCancelled', { orderId, reason: 'CUSTOMER_CANCELLED', cancelledAt: t(0).toISOString() }, { source: SOURCE, time: t(0) });
const completed = (orderId: string): EventEnvelope<'OrderCompleted'> =>
  createEvent('OrderCompleted', { orderId, completedAt: t(0).toISOString() }, { source: SOURCE, time: t(0) });

describe('inventory against PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  const catalogue = (sku: string, name: string, stock: number, at: Date) =>
    inTransaction(dataSource, (tx) =>
      catalogueProduct(tx, { type: 'CatalogueProduct', sku, name, unitPrice: 1_250, currency: 'EUR', availableAtLeast: stock, at }),
    );
  const react = (event: Parameters<typeof reactToOrderEvent>[1], at: Date) => inTransaction(dataSource, (tx) => reactToOrderEvent(tx, event, at));
  const stockRows = () => dataSource.getRepository(StockView).find({ order: { sku: 'ASC' } });

  it('writes the same stock rows live as a replay of the product streams', async () => {
    await catalogue('LIVE-MUG', 'Mug', 10, t(1));
    await catalogue('LIVE-TEE', 'Tee', 5, t(2));
    await react(placed('live-1', [{ sku: 'LIVE-MUG', quantity: 2 }, { sku: 'LIVE-TEE', quantity: 1 }]), t(3));
    await react(placed('live-2', [{ sku: 'LIVE-MUG', quantity: 3 }]), t(4));
    await react(cancelled('live-1'), t(5));
    await react(completed('live-2'), t(6));

    const live = await stockRows();
    await rebuildProjection(dataSource, stockProjection);

    expect(await stockRows()).toEqual(live);
    expect(live.filter((r) => r.sku.startsWith('LIVE-'))).toEqual([
      { sku: 'LIVE-MUG', name: 'Mug', unitPrice: 1_250, currency: 'EUR', stocked: 10, available: 7, reserved: 0, committed: 3, updatedAt: t(6) },
      { sku: 'LIVE-TEE', name: 'Tee', unitPrice: 1_250, currency: 'EUR', stocked: 5, available: 5, reserved: 0, committed: 0, updatedAt: t(5) },
    ]);
  });

  it('moves a product once per batch: later orders of the batch see the earlier ones, and one StockLevelChanged carries the final levels', async () => {
    await catalogue('BATCH-MUG', 'Mug', 5, t(1));
    await inTransaction(dataSource, (tx) =>
      withEventBatch(tx, async () => {
        await reactToOrderEvent(tx, placed('batch-1', [{ sku: 'BATCH-MUG', quantity: 2 }]), t(2));
        await reactToOrderEvent(tx, placed('batch-2', [{ sku: 'BATCH-MUG', quantity: 2 }]), t(3));
        // Only 1 left after the two above, within the same batch: this one must not get stock.
        await reactToOrderEvent(tx, placed('batch-3', [{ sku: 'BATCH-MUG', quantity: 2 }]), t(4));
        await reactToOrderEvent(tx, cancelled('batch-1'), t(5));
      }),
    );

    const levels = (await streamEvents(dataSource, 'product-BATCH-MUG')).filter((e) => e.type === 'StockLevelChanged');
    // RESTOCKED when catalogued, then one change for the whole batch, owned by no single order.
    expect(levels).toHaveLength(2);
    expect(levels[1]!.data).toMatchObject({ stocked: 5, available: 3, reserved: 2, committed: 0, cause: 'RELEASED' });
    expect(levels[1]!.data).not.toHaveProperty('orderId');
    expect((await streamEvents(dataSource, 'reservation-batch-3')).map((e) => e.type)).toEqual(['StockUnavailable']);
    expect((await streamEvents(dataSource, 'reservation-batch-1')).map((e) => e.type)).toEqual(['StockReserved', 'StockReleased']);
    expect(await dataSource.getRepository(StockView).findOneByOrFail({ sku: 'BATCH-MUG' })).toMatchObject({ available: 3, reserved: 2 });
  });

  it('leaves a tombstone for an order cancelled before it was placed, and reserves nothing when it is placed late', async () => {
    await catalogue('VOID-MUG', 'Mug', 4, t(1));

    const voided = await react(cancelled('void-1'), t(2));
    const late = await react(placed('void-1', [{ sku: 'VOID-MUG', quantity: 2 }]), t(3));
    const again = await react(cancelled('void-1'), t(4));

    expect(voided.map((e) => e.type)).toEqual(['ReservationVoided']);
    expect(late).toEqual([]);
    expect(again).toEqual([]);
    expect((await streamEvents(dataSource, 'reservation-void-1')).map((e) => e.type)).toEqual(['ReservationVoided']);
    expect(await dataSource.getRepository(StockView).findOneByOrFail({ sku: 'VOID-MUG' })).toMatchObject({ available: 4, reserved: 0 });
  });

  it('fills the catalog entry into every StockLevelChanged, also after one recorded before the entry was carried', async () => {
    await catalogue('OLD-CAP', 'Cap', 0, t(1));
    // A StockLevelChanged as inventory recorded it before the catalog fields existed.
    const legacy = createEvent(
      'StockLevelChanged',
      { sku: 'OLD-CAP', stocked: 6, available: 6, reserved: 0, committed: 0, cause: 'RESTOCKED', changedAt: t(2).toISOString() },
      { source: SOURCE, time: t(2) },
    );
    await inTransaction(dataSource, (tx) => appendToStream(tx, 'product-OLD-CAP', 1, [{ event: legacy, publish: false }]));

    const decided = await react(placed('old-1', [{ sku: 'OLD-CAP', quantity: 2 }]), t(3));

    const changed = decided.filter((e) => e.type === 'StockLevelChanged');
    expect(changed.map((e) => e.data)).toEqual([
      {
        sku: 'OLD-CAP',
        stocked: 6,
        available: 4,
        reserved: 2,
        committed: 0,
        cause: 'RESERVED',
        orderId: 'old-1',
        changedAt: t(3).toISOString(),
        name: 'Cap',
        unitPrice: 1_250,
        currency: 'EUR',
      },
    ]);
    for (const event of await streamEvents(dataSource, 'product-OLD-CAP')) {
      expect(() => validateEventData(event.type as 'StockLevelChanged', event.data)).not.toThrow();
    }
  });
});
