import { InvalidEventError, createEvent, type AnyEvent } from '@orderflow/contracts';
import { appendToStream, enqueueForPublishing } from '../src';
import { countRows, createTestDatabase, orderPlaced, type TestDatabase } from './support';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

/** A StockLevelChanged whose data carries `catalogued`, as a spread of the decider's state did. */
function stockLevelChangedWithExtraField(): AnyEvent {
  const event = createEvent(
    'StockLevelChanged',
    { sku: 'SKU-1', stocked: 10, available: 8, reserved: 2, committed: 0, cause: 'RESERVED', changedAt: '2025-11-20T10:00:00.000Z' },
    { source: 'orderflow/it-eventstore', time: new Date('2025-11-20T10:00:00.000Z') },
  );
  return { ...event, data: { ...event.data, catalogued: true } } as AnyEvent;
}

async function tablesAreEmpty(): Promise<void> {
  expect(await countRows(db.dataSource, 'events')).toBe(0);
  expect(await countRows(db.dataSource, 'outbox')).toBe(0);
}

describe('validation on append', () => {
  it('refuses an event with a field its contract does not have, naming the type and the field, and writes nothing', async () => {
    const invalid = stockLevelChangedWithExtraField();

    const append = db.dataSource.transaction((tx) => appendToStream(tx, 'product-SKU-1', 0, [{ event: invalid, publish: true }]));

    await expect(append).rejects.toThrow(InvalidEventError);
    await expect(append).rejects.toThrow(/StockLevelChanged.*catalogued/);
    await expect(append).rejects.not.toHaveProperty('retriable', true);
    await tablesAreEmpty();
  });

  it('refuses the whole append when one of its events is invalid', async () => {
    const placed = orderPlaced();
    const broken = { ...placed, id: '7d4a1e0e-2b0a-4f7e-9d3c-5f1b2a3c4d5e', data: { ...placed.data, total: -1 } } as AnyEvent;

    const append = db.dataSource.transaction((tx) =>
      appendToStream(tx, `order-${placed.subject}`, 0, [
        { event: placed, publish: true },
        { event: broken, publish: false },
      ]),
    );

    await expect(append).rejects.toThrow(/OrderPlaced.*total/);
    await tablesAreEmpty();
  });

  it('refuses an event whose subject is not its key field', async () => {
    const placed = orderPlaced();
    const misaddressed = { ...placed, subject: 'another-order' } as AnyEvent;

    const append = db.dataSource.transaction((tx) => appendToStream(tx, `order-${placed.subject}`, 0, [{ event: misaddressed, publish: true }]));

    await expect(append).rejects.toThrow(/OrderPlaced subject "another-order" does not match data.orderId/);
    await tablesAreEmpty();
  });

  it('refuses an invalid event enqueued for publishing on its own, before it reaches the outbox', async () => {
    const enqueue = db.dataSource.transaction((tx) => enqueueForPublishing(tx, [stockLevelChangedWithExtraField()]));

    await expect(enqueue).rejects.toThrow(/StockLevelChanged.*catalogued/);
    await tablesAreEmpty();
  });
});
