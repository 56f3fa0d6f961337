import { randomBytes } from 'node:crypto';
import { Topics, createEvent, encodeEvent, type EventData, type EventEnvelope } from '@orderflow/contracts';
import { createKafka, ensureTopics, orderflowTopics, parseBrokers, type Kafka } from '@orderflow/messaging';
import type { DataSource } from 'typeorm';
import { rebuildCatalog } from '../src/catalog/catalog-rebuild';
import { Product } from '../src/catalog/product.entity';
import { projectProductEvent, type ProductEvent } from '../src/catalog/product.projection';
import { openOrdersDatabase } from './orders-database';

const suffix = (): string => randomBytes(4).toString('hex');
const source = 'orderflow/it-inventory';

let kafka: Kafka;
let topic: string;
let dataSource: DataSource;
let drop: () => Promise<void>;

beforeEach(async () => {
  kafka = createKafka({ brokers: parseBrokers(process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'), clientId: 'it-orders-catalog' });
  const prefix = `it-${suffix()}.`;
  topic = `${prefix}${Topics.products}`;
  await ensureTopics(
    kafka,
    orderflowTopics(prefix).filter((t) => t.topic === topic),
  );
  ({ dataSource, drop } = await openOrdersDatabase());
});

afterEach(async () => {
  await drop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

let clock = Date.parse('2026-11-01T10:00:00.000Z');
const tick = (): Date => new Date((clock += 1_000));

function catalogued(sku: string, name: string, unitPrice: number): EventEnvelope<'ProductCatalogued'> {
  const time = tick();
  return createEvent(
    'ProductCatalogued',
    { sku, name, unitPrice, currency: 'EUR', cataloguedAt: time.toISOString() },
    { source, time },
  );
}

type Levels = Pick<EventData<'StockLevelChanged'>, 'stocked' | 'available' | 'reserved' | 'committed'>;

/** A StockLevelChanged with the product's full state, as inventory publishes it now. */
function fullState(sku: string, name: string, unitPrice: number, levels: Levels): EventEnvelope<'StockLevelChanged'> {
  const time = tick();
  return createEvent(
    'StockLevelChanged',
    { sku, ...levels, cause: 'RESTOCKED', changedAt: time.toISOString(), name, unitPrice, currency: 'EUR' },
    { source, time },
  );
}

/** A StockLevelChanged as inventory published it before the catalog fields existed: levels only. */
function levelsOnly(sku: string, levels: Levels): EventEnvelope<'StockLevelChanged'> {
  const time = tick();
  return createEvent('StockLevelChanged', { sku, ...levels, cause: 'RESERVED', changedAt: time.toISOString() }, { source, time });
}

async function publish(
  events: ProductEvent[],
  extra: { key: string; value: string; headers: Record<string, string> }[] = [],
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [...events.map((e) => encodeEvent(e)), ...extra] });
  } finally {
    await producer.disconnect();
  }
}

const rows = () => dataSource.getRepository(Product).find({ order: { sku: 'ASC' } });

describe('rebuilding the storefront catalog from inventory.products', () => {
  it('rebuilds from scratch the same rows the live projection made, dropping rows the topic does not know', async () => {
    const history: ProductEvent[] = [
      catalogued('MUG-01', 'Mug', 1_250),
      fullState('MUG-01', 'Mug', 1_250, { stocked: 10, available: 10, reserved: 0, committed: 0 }),
      catalogued('TEE-02', 'T-shirt', 2_000),
      fullState('TEE-02', 'T-shirt', 2_000, { stocked: 5, available: 5, reserved: 0, committed: 0 }),
      fullState('MUG-01', 'Mug', 1_250, { stocked: 10, available: 8, reserved: 2, committed: 0 }),
      levelsOnly('TEE-02', { stocked: 5, available: 4, reserved: 1, committed: 0 }),
    ];
    await publish(history);
    for (const event of history) await dataSource.transaction((tx) => projectProductEvent(tx, event));
    const live = await rows();
    await dataSource
      .getRepository(Product)
      .insert({ sku: 'GONE-9', name: 'Not in the topic', unitPrice: 1, currency: 'EUR', available: 3, updatedAt: new Date() });

    const result = await rebuildCatalog(dataSource, kafka, topic);

    expect(result).toEqual({ messages: history.length, products: 2, skipped: 0 });
    expect(await rows()).toEqual(live);
    expect(live.map(({ sku, name, unitPrice, currency, available }) => ({ sku, name, unitPrice, currency, available }))).toEqual([
      { sku: 'MUG-01', name: 'Mug', unitPrice: 1_250, currency: 'EUR', available: 8 },
      { sku: 'TEE-02', name: 'T-shirt', unitPrice: 2_000, currency: 'EUR', available: 4 },
    ]);
  });

  it('builds a product from its full-state message alone, as compaction leaves it, and skips a levels-only message of an unknown sku', async () => {
    await publish(
      [
        levelsOnly('OLD-1', { stocked: 1, available: 1, reserved: 0, committed: 0 }),
        fullState('CAP-03', 'Cap', 900, { stocked: 3, available: 2, reserved: 1, committed: 0 }),
      ],
      [{ key: 'BAD-1', value: '{"sku":"BAD-1"}', headers: { ce_type: 'StockLevelChanged' } }],
    );

    const result = await rebuildCatalog(dataSource, kafka, topic);

    expect(result).toEqual({ messages: 3, products: 1, skipped: 1 });
    expect((await rows()).map(({ sku, name, unitPrice, available }) => ({ sku, name, unitPrice, available }))).toEqual([
      { sku: 'CAP-03', name: 'Cap', unitPrice: 900, available: 2 },
    ]);
  });

  it('empties the catalog when the topic is empty', async () => {
    await dataSource
      .getRepository(Product)
      .insert({ sku: 'GONE-9', name: 'Stale', unitPrice: 1, currency: 'EUR', available: 3, updatedAt: new Date() });

    await expect(rebuildCatalog(dataSource, kafka, topic)).resolves.toEqual({ messages: 0, products: 0, skipped: 0 });
    expect(await rows()).toEqual([]);
  });

  it('keeps the newer level when an older message of the same SKU arrives after it (sent again after a broker crash)', async () => {
    const catalogue = catalogued('MUG-01', 'Old mug', 999);
    const first = fullState('MUG-01', 'Mug', 1_250, { stocked: 10, available: 9, reserved: 1, committed: 0 });
    const second = fullState('MUG-01', 'Mug', 1_250, { stocked: 10, available: 8, reserved: 2, committed: 0 });
    const third = levelsOnly('MUG-01', { stocked: 10, available: 7, reserved: 3, committed: 0 });
    await dataSource.transaction((tx) => projectProductEvent(tx, first));
    await dataSource.transaction((tx) => projectProductEvent(tx, third));
    for (const late of [second, first, catalogue]) await dataSource.transaction((tx) => projectProductEvent(tx, late));
    expect((await rows()).map(({ name, unitPrice, available, updatedAt }) => ({ name, unitPrice, available, updatedAt }))).toEqual([
      { name: 'Mug', unitPrice: 1_250, available: 7, updatedAt: new Date(third.time) },
    ]);
  });

  it('lets the live projection apply a levels-only change to a product it does not have, without failing', async () => {
    await expect(
      dataSource.transaction((tx) =>
        projectProductEvent(tx, levelsOnly('NEW-1', { stocked: 2, available: 2, reserved: 0, committed: 0 })),
      ),
    ).resolves.toBeUndefined();
    expect(await rows()).toEqual([]);
  });
});
