import { Quantity, type DomainEvent, type EventData } from '@orderflow/contracts';
import { DomainError, type Decider } from '@orderflow/domain';

/**
 * Stock lives in two kinds of streams: `product-<sku>` (catalogue entry and stock
 * levels) and `reservation-<orderId>` (what one order holds). Reserving touches
 * one reservation and several products, all appended in one transaction, so an
 * order gets every line or none.
 */
export type ReservationEvent = DomainEvent<
  'StockReserved' | 'StockUnavailable' | 'StockReleased' | 'StockCommitted' | 'ReservationVoided'
>;
export type ProductEvent = DomainEvent<'ProductCatalogued' | 'StockLevelChanged'>;

export interface Levels {
  stocked: number;
  available: number;
  reserved: number;
  committed: number;
}

/** What the storefront shows of a product besides its levels. */
export interface CatalogEntry {
  name: string;
  unitPrice: number;
  currency: string;
}

export interface Line {
  sku: string;
  quantity: number;
}

export type ReservationState =
  | { status: 'NONE' }
  | { status: 'RESERVED'; lines: Line[] }
  | { status: 'UNAVAILABLE' }
  | { status: 'RELEASED'; lines: Line[] }
  | { status: 'COMMITTED'; lines: Line[] }
  /** Tombstone: cancelled before it was placed, so a late OrderPlaced reserves nothing. */
  | { status: 'VOIDED' };

export type CataloguedProduct = { catalogued: true; sku: string } & CatalogEntry & Levels;
export type ProductState = { catalogued: false } | CataloguedProduct;

export type ReservationCommand =
  | { type: 'ReserveStock'; orderId: string; lines: Line[]; at: Date }
  | { type: 'ReleaseStock'; orderId: string; at: Date }
  | { type: 'CommitStock'; orderId: string; at: Date };

export interface ReservationDecision {
  reservation: ReservationEvent[];
  /** StockLevelChanged per SKU whose levels moved. */
  products: Map<string, ProductEvent[]>;
}

/** The most one line of a reservation may hold: the contract's limit on a quantity. */
const MAX_LINE_QUANTITY = Quantity.maximum ?? Number.MAX_SAFE_INTEGER;

export const initialReservation = (): ReservationState => ({ status: 'NONE' });
export const initialProduct = (): ProductState => ({ catalogued: false });

/** Merges lines of the same SKU so `2 × A + 1 × A` reserves 3 of A once. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku));
}

/** `levels` moved by `by`, written field by field: a product state carries more than its levels. */
function shifted(levels: Levels, by: Partial<Levels>): Levels {
  return {
    stocked: levels.stocked + (by.stocked ?? 0),
    available: levels.available + (by.available ?? 0),
    reserved: levels.reserved + (by.reserved ?? 0),
    committed: levels.committed + (by.committed ?? 0),
  };
}

/**
 * The product's whole state after the change, never a spread of it (ProductState has
 * fields the contract refuses): `inventory.products` is compacted, so this event is
 * all a consumer may ever see of the product.
 */
function levelChange(
  product: CataloguedProduct,
  next: Levels,
  cause: EventData<'StockLevelChanged'>['cause'],
  at: Date,
  orderId?: string,
): ProductEvent {
  const data: EventData<'StockLevelChanged'> = {
    sku: product.sku,
    stocked: next.stocked,
    available: next.available,
    reserved: next.reserved,
    committed: next.committed,
    cause,
    changedAt: at.toISOString(),
    name: product.name,
    unitPrice: product.unitPrice,
    currency: product.currency,
  };
  if (orderId !== undefined) data.orderId = orderId;
  return { type: 'StockLevelChanged', data };
}

function availableOf(product: ProductState | undefined): number {
  return product?.catalogued ? product.available : 0;
}

/** A product a reservation holds stock of: it was catalogued, or nothing could have been reserved. */
function heldProduct(products: ReadonlyMap<string, ProductState>, sku: string, orderId: string): CataloguedProduct {
  const product = products.get(sku);
  if (!product?.catalogued) throw new DomainError('ILLEGAL_STATE', `order ${orderId} holds stock of ${sku}, which is not catalogued`);
  return product;
}

export function decideReservation(
  command: ReservationCommand,
  reservation: ReservationState,
  products: ReadonlyMap<string, ProductState>,
): ReservationDecision {
  const none: ReservationDecision = { reservation: [], products: new Map() };
  const { orderId } = command;
  const at = command.at.toISOString();
  switch (command.type) {
    case 'ReserveStock': {
      // Reserved, refused, released, committed or voided: a redelivered or late order reserves nothing.
      if (reservation.status !== 'NONE') return none;
      const lines = mergeLines(command.lines);
      const oversized = lines.filter((l) => l.quantity > MAX_LINE_QUANTITY);
      if (oversized.length > 0) {
        throw new DomainError(
          'VALIDATION',
          `order ${orderId} asks for ${oversized.map((l) => `${l.quantity} × ${l.sku}`).join(', ')}: at most ${MAX_LINE_QUANTITY} of a SKU per order`,
        );
      }
      const short = lines
        .map((l) => ({ sku: l.sku, requested: l.quantity, available: availableOf(products.get(l.sku)) }))
        .filter((l) => l.available < l.requested);
      if (short.length > 0) {
        return { reservation: [{ type: 'StockUnavailable', data: { orderId, shortSkus: short, checkedAt: at } }], products: new Map() };
      }
      const changes = new Map<string, ProductEvent[]>();
      for (const { sku, quantity } of lines) {
        const product = heldProduct(products, sku, orderId);
        changes.set(sku, [levelChange(product, shifted(product, { available: -quantity, reserved: quantity }), 'RESERVED', command.at, orderId)]);
      }
      return { reservation: [{ type: 'StockReserved', data: { orderId, lines, reservedAt: at } }], products: changes };
    }
    case 'ReleaseStock': {
      // Cancelled before inventory saw the order placed: leave a tombstone so the late OrderPlaced reserves nothing.
      if (reservation.status === 'NONE') return { reservation: [{ type: 'ReservationVoided', data: { orderId, voidedAt: at } }], products: new Map() };
      if (reservation.status !== 'RESERVED') return none;
      const changes = new Map<string, ProductEvent[]>();
      for (const { sku, quantity } of reservation.lines) {
        const product = heldProduct(products, sku, orderId);
        changes.set(sku, [levelChange(product, shifted(product, { available: quantity, reserved: -quantity }), 'RELEASED', command.at, orderId)]);
      }
      return { reservation: [{ type: 'StockReleased', data: { orderId, lines: reservation.lines, releasedAt: at } }], products: changes };
    }
    case 'CommitStock': {
      if (reservation.status === 'COMMITTED') return none;
      if (reservation.status !== 'RESERVED') {
        throw new DomainError('ILLEGAL_STATE', `order ${orderId} completed without a stock reservation (${reservation.status})`);
      }
      const changes = new Map<string, ProductEvent[]>();
      for (const { sku, quantity } of reservation.lines) {
        const product = heldProduct(products, sku, orderId);
        changes.set(sku, [levelChange(product, shifted(product, { reserved: -quantity, committed: quantity }), 'COMMITTED', command.at, orderId)]);
      }
      return { reservation: [{ type: 'StockCommitted', data: { orderId, lines: reservation.lines, committedAt: at } }], products: changes };
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

export function evolveReservation(state: ReservationState, event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'StockReserved':
      return { status: 'RESERVED', lines: event.data.lines };
    case 'StockUnavailable':
      return { status: 'UNAVAILABLE' };
    case 'StockReleased':
      return { status: 'RELEASED', lines: event.data.lines };
    case 'StockCommitted':
      return { status: 'COMMITTED', lines: event.data.lines };
    case 'ReservationVoided':
      return { status: 'VOIDED' };
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Every StockLevelChanged carries the complete levels and, since the catalog fields
 * exist, the catalog entry: a product's state is its last event. One recorded
 * before them keeps the name and price the state already had.
 */
export function evolveProduct(state: ProductState, event: ProductEvent): ProductState {
  switch (event.type) {
    case 'ProductCatalogued': {
      if (state.catalogued) return state;
      const { sku, name, unitPrice, currency } = event.data;
      return { catalogued: true, sku, name, unitPrice, currency, stocked: 0, available: 0, reserved: 0, committed: 0 };
    }
    case 'StockLevelChanged': {
      const { sku, stocked, available, reserved, committed } = event.data;
      const entry = catalogEntryOf(event.data) ?? (state.catalogued ? catalogEntryOf(state) : undefined);
      if (!entry) throw new Error(`StockLevelChanged of ${sku} has no catalog entry and follows no ProductCatalogued`);
      return { catalogued: true, sku, name: entry.name, unitPrice: entry.unitPrice, currency: entry.currency, stocked, available, reserved, committed };
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

function catalogEntryOf(from: Partial<CatalogEntry>): CatalogEntry | undefined {
  const { name, unitPrice, currency } = from;
  return name !== undefined && unitPrice !== undefined && currency !== undefined ? { name, unitPrice, currency } : undefined;
}

/** True when this product event alone gives the whole state (not a StockLevelChanged recorded before the catalog fields). */
export function isWholeProductState(event: ProductEvent): boolean {
  return event.type === 'ProductCatalogued' || catalogEntryOf(event.data) !== undefined;
}

export type CatalogueCommand = {
  type: 'CatalogueProduct';
  sku: string;
  name: string;
  unitPrice: number;
  currency: string;
  /** Tops available stock up to at least this level. */
  availableAtLeast: number;
  at: Date;
};

/** Catalogues a product once and restocks it; running it again only tops stock up. */
export function decideCatalogue(command: CatalogueCommand, state: ProductState): ProductEvent[] {
  const events: ProductEvent[] = [];
  if (!state.catalogued) {
    const { sku, name, unitPrice, currency } = command;
    events.push({ type: 'ProductCatalogued', data: { sku, name, unitPrice, currency, cataloguedAt: command.at.toISOString() } });
  }
  const product = events.reduce(evolveProduct, state);
  if (!product.catalogued) throw new Error(`product ${command.sku} is not catalogued after cataloguing it`);
  const missing = command.availableAtLeast - product.available;
  if (missing > 0) events.push(levelChange(product, shifted(product, { stocked: missing, available: missing }), 'RESTOCKED', command.at));
  return events;
}

/** Every StockLevelChanged emitted while deciding: the product events of a decision, SKU by SKU. */
function productEventsOf(decision: ReservationDecision): ProductEvent[] {
  return [...decision.products.values()].flat();
}

/**
 * One order's reservation and the products it touches, seen as a single state, so
 * `decideReservation` has the plain Decider shape (given/when/then specs, property tests).
 */
export interface StockState {
  reservation: ReservationState;
  products: ReadonlyMap<string, ProductState>;
}

const isProductEvent = (event: ReservationEvent | ProductEvent): event is ProductEvent =>
  event.type === 'ProductCatalogued' || event.type === 'StockLevelChanged';

export const reservationDecider: Decider<StockState, ReservationCommand, ReservationEvent | ProductEvent> = {
  initialState: () => ({ reservation: initialReservation(), products: new Map() }),
  decide: (command, state) => {
    const decision = decideReservation(command, state.reservation, state.products);
    return [...decision.reservation, ...productEventsOf(decision)];
  },
  evolve: (state, event) => {
    if (!isProductEvent(event)) return { reservation: evolveReservation(state.reservation, event), products: state.products };
    const sku = event.data.sku;
    const products = new Map(state.products);
    products.set(sku, evolveProduct(products.get(sku) ?? initialProduct(), event));
    return { reservation: state.reservation, products };
  },
};

export const catalogueDecider: Decider<ProductState, CatalogueCommand, ProductEvent> = {
  initialState: initialProduct,
  decide: decideCatalogue,
  evolve: evolveProduct,
};

export const productStream = (sku: string): string => `product-${sku}`;
export const reservationStream = (orderId: string): string => `reservation-${orderId}`;
