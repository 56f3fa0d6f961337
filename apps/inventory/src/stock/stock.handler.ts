import { toEnvelope, type AnyEvent, type EventEnvelope } from '@orderflow/contracts';
import { appendToStream, atBatchEnd, batchLocal, readLastEvent, readStream } from '@orderflow/eventstore';
import type { EntityManager } from 'typeorm';
import {
  decideCatalogue,
  decideReservation,
  evolveProduct,
  evolveReservation,
  initialProduct,
  initialReservation,
  isWholeProductState,
  mergeLines,
  productStream,
  reservationStream,
  type CatalogueCommand,
  type ProductEvent,
  type ProductState,
  type ReservationCommand,
  type ReservationEvent,
} from './stock.decider';
import { projectProduct } from './stock.projection';

const SOURCE = 'orderflow/inventory';

interface LoadedProduct {
  version: number;
  state: ProductState;
}

/**
 * A product's last event is its whole state, so one row is read per product. Only a
 * StockLevelChanged recorded before the catalog fields existed needs the stream
 * (once: the next change carries them again).
 */
async function loadProduct(tx: EntityManager, sku: string): Promise<LoadedProduct> {
  const { version, event } = await readLastEvent(tx, productStream(sku));
  if (!event) return { version, state: initialProduct() };
  if (isWholeProductState(event as ProductEvent)) return { version, state: evolveProduct(initialProduct(), event as ProductEvent) };
  const stream = await readStream(tx, productStream(sku));
  return { version: stream.version, state: stream.events.reduce((s, e) => evolveProduct(s, e as ProductEvent), initialProduct()) };
}

/** A product as this batch has changed it so far, with the level changes it decided. */
interface ChangedProduct extends LoadedProduct {
  changes: EventEnvelope<'StockLevelChanged'>[];
}

/**
 * Every order touches a few hot SKUs. In a consumer batch their levels move in
 * memory, order after order, and each product stream gets one StockLevelChanged
 * at the end of the batch with the levels after all of them: one event, one
 * outbox row and one catalog update per SKU per batch instead of per order.
 * The per-order facts stay in each reservation's stream (StockReserved, …).
 */
const changedProducts = (tx: EntityManager) => batchLocal(tx, 'inventory:changed-products', () => new Map<string, ChangedProduct>());

async function currentProduct(tx: EntityManager, sku: string): Promise<LoadedProduct> {
  return changedProducts(tx)?.get(sku) ?? loadProduct(tx, sku);
}

/** One level change stands as decided; several become one with the last levels, owned by no single order. */
function coalesced(changes: readonly EventEnvelope<'StockLevelChanged'>[]): EventEnvelope<'StockLevelChanged'> {
  const last = changes.at(-1)!;
  if (changes.length === 1) return last;
  const { orderId: _many, ...levels } = last.data;
  return toEnvelope({ type: 'StockLevelChanged', data: levels }, { source: SOURCE, time: new Date(last.time) }) as EventEnvelope<'StockLevelChanged'>;
}

async function recordLevels(tx: EntityManager, sku: string, product: LoadedProduct, events: ProductEvent[], envelopes: AnyEvent[]): Promise<void> {
  const changed = changedProducts(tx);
  if (!changed) {
    await appendToStream(tx, productStream(sku), product.version, envelopes.map((e) => ({ event: e, publish: true })));
    await projectProduct(tx, events.reduce(evolveProduct, product.state), events);
    return;
  }
  const entry = changed.get(sku) ?? { version: product.version, state: product.state, changes: [] };
  entry.state = events.reduce(evolveProduct, entry.state);
  entry.changes.push(...(envelopes as EventEnvelope<'StockLevelChanged'>[]));
  changed.set(sku, entry);
  await atBatchEnd(tx, `inventory:levels:${sku}`, async () => {
    const event = coalesced(entry.changes);
    await appendToStream(tx, productStream(sku), entry.version, [{ event, publish: true }]);
    await projectProduct(tx, entry.state, [event]);
  });
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
export async function reactToOrderEvent(tx: EntityManager, event: OrderEvent, now: Date): Promise<AnyEvent[]> {
  const command = commandFor(event, now);
  const stream = reservationStream(command.orderId);
  const loaded = await readStream(tx, stream);
  const reservation = loaded.events.reduce((s, e) => evolveReservation(s, e as ReservationEvent), initialReservation());
  const skus =
    command.type === 'ReserveStock'
      ? mergeLines(command.lines).map((l) => l.sku)
      : 'lines' in reservation
        ? reservation.lines.map((l) => l.sku)
        : [];

  const products = new Map<string, LoadedProduct>();
  for (const sku of skus) products.set(sku, await currentProduct(tx, sku)); // sorted: a stable lock order
  const decision = decideReservation(command, reservation, new Map([...products].map(([sku, p]) => [sku, p.state])));

  const envelope = (e: ReservationEvent | ProductEvent) => toEnvelope(e, { source: SOURCE, time: now, causedBy: event });
  const appended = decision.reservation.map(envelope);
  await appendToStream(tx, stream, loaded.version, appended.map((e) => ({ event: e, publish: true })));
  for (const [sku, events] of decision.products) {
    const envelopes = events.map(envelope);
    await recordLevels(tx, sku, products.get(sku)!, events, envelopes);
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
  await projectProduct(tx, events.reduce(evolveProduct, product.state), events);
  return envelopes;
}
