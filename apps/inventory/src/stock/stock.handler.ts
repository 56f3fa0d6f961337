import { toEnvelope, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { appendToStream, readLastEvent, readStream } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import {
  decideCatalogue,
  decideReservation,
  evolveProduct,
  evolveReservation,
  initialProduct,
  initialReservation,
  mergeLines,
  productStream,
  reservationStream,
  type CatalogueCommand,
  type ProductEvent,
  type ProductState,
  type ReservationCommand,
  type ReservationEvent,
} from './stock.decider';
import { StockView } from './stock.entity';

const SOURCE = 'orderflow/inventory';

interface LoadedProduct {
  version: number;
  state: ProductState;
}

async function loadProduct(tx: EntityManager, sku: string): Promise<LoadedProduct> {
  const { version, event } = await readLastEvent(tx, productStream(sku));
  return { version, state: event ? evolveProduct(initialProduct(), event as ProductEvent) : initialProduct() };
}

type OrderEvent = EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderCancelled'> | EventEnvelope<'OrderCompleted'>;

function commandFor(event: OrderEvent, now: Date): ReservationCommand {
  switch (event.type) {
    case 'OrderPlaced':
      return { type: 'ReserveStock', orderId: event.data.orderId, lines: event.data.items, at: now };
    case 'OrderCancelled':
      return { type: 'ReleaseStock', orderId: event.data.orderId, at: now };
    case 'OrderCompleted':
      return { type: 'CommitStock', orderId: event.data.orderId, at: now };
  }
}

/**
 * Reserve on OrderPlaced, release on OrderCancelled, commit on OrderCompleted.
 * The reservation and every product it touches are appended in `tx`, each with its
 * expected version, so a concurrent reservation of the same SKU makes one retry.
 */
export async function reactToOrderEvent(tx: EntityManager, event: OrderEvent, now: Date = new Date()): Promise<AnyEvent[]> {
  const command = commandFor(event, now);
  const stream = reservationStream(command.orderId);
  const loaded = await readStream(tx, stream);
  const reservation = loaded.events.reduce((s, e) => evolveReservation(s, e as ReservationEvent), initialReservation());
  const skus =
    command.type === 'ReserveStock'
      ? mergeLines(command.lines).map((l) => l.sku)
      : reservation.status === 'NONE' || reservation.status === 'UNAVAILABLE'
        ? []
        : reservation.lines.map((l) => l.sku);

  const products = new Map<string, LoadedProduct>();
  for (const sku of skus) products.set(sku, await loadProduct(tx, sku)); // sorted: a stable lock order
  const decision = decideReservation(command, reservation, new Map([...products].map(([sku, p]) => [sku, p.state])));

  const envelope = (e: ReservationEvent | ProductEvent) => toEnvelope(e, { source: SOURCE, time: now, causedBy: event });
  const appended = decision.reservation.map(envelope);
  await appendToStream(tx, stream, loaded.version, appended.map((e) => ({ event: e, publish: true })));
  for (const [sku, events] of decision.products) {
    const product = products.get(sku)!;
    const envelopes = events.map(envelope);
    await appendToStream(tx, productStream(sku), product.version, envelopes.map((e) => ({ event: e, publish: true })));
    await projectLevels(tx, events, now);
    appended.push(...envelopes);
  }
  return appended;
}

/** Catalogues a product (once) and tops its stock up; used by the seed command. */
export async function catalogueProduct(tx: EntityManager, command: CatalogueCommand): Promise<AnyEvent[]> {
  const product = await loadProduct(tx, command.sku);
  const events = decideCatalogue(command, product.state);
  const envelopes = events.map((e) => toEnvelope(e, { source: SOURCE, time: command.at }));
  await appendToStream(tx, productStream(command.sku), product.version, envelopes.map((e) => ({ event: e, publish: true })));
  for (const e of events) {
    if (e.type === 'ProductCatalogued') {
      const { sku, name, unitPrice, currency } = e.data;
      await tx.getRepository(StockView).insert({ sku, name, unitPrice, currency, stocked: 0, available: 0, reserved: 0, committed: 0, updatedAt: command.at });
    }
  }
  await projectLevels(tx, events, command.at);
  return envelopes;
}

async function projectLevels(tx: EntityManager, events: ProductEvent[], now: Date): Promise<void> {
  for (const e of events) {
    if (e.type !== 'StockLevelChanged') continue;
    const { sku, stocked, available, reserved, committed } = e.data;
    await tx.getRepository(StockView).update({ sku }, { stocked, available, reserved, committed, updatedAt: now });
  }
}

/** The stock row of one product stream, from scratch: used to rebuild the read model. */
export async function projectProductStream(tx: EntityManager, events: ProductEvent[]): Promise<void> {
  const catalogued = events.find((e) => e.type === 'ProductCatalogued');
  if (catalogued?.type !== 'ProductCatalogued') return;
  const state = events.reduce(evolveProduct, initialProduct());
  if (!state.catalogued) return;
  const { sku, name, unitPrice, currency } = catalogued.data;
  const { stocked, available, reserved, committed } = state;
  const last = events.at(-1)!;
  const updatedAt = new Date(last.type === 'StockLevelChanged' ? last.data.changedAt : last.data.cataloguedAt);
  await tx.getRepository(StockView).insert({ sku, name, unitPrice, currency, stocked, available, reserved, committed, updatedAt });
}
