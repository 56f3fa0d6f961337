import type { DomainEvent, EventData } from '@orderflow/contracts';
import { DomainError } from '@orderflow/eventstore';

/**
 * Stock lives in two kinds of streams: `product-<sku>` (catalogue entry and stock
 * levels) and `reservation-<orderId>` (what one order holds). Reserving touches
 * one reservation and several products, all appended in one transaction, so an
 * order gets every line or none.
 */
export type ReservationEvent = DomainEvent<'StockReserved' | 'StockUnavailable' | 'StockReleased' | 'StockCommitted'>;
export type ProductEvent = DomainEvent<'ProductCatalogued' | 'StockLevelChanged'>;

export interface Levels {
  stocked: number;
  available: number;
  reserved: number;
  committed: number;
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
  | { status: 'COMMITTED'; lines: Line[] };

export type ProductState = { catalogued: false } | ({ catalogued: true; sku: string } & Levels);

export type ReservationCommand =
  | { type: 'ReserveStock'; orderId: string; lines: Line[]; at: Date }
  | { type: 'ReleaseStock'; orderId: string; at: Date }
  | { type: 'CommitStock'; orderId: string; at: Date };

export interface ReservationDecision {
  reservation: ReservationEvent[];
  /** StockLevelChanged per SKU whose levels moved. */
  products: Map<string, ProductEvent[]>;
}

const NO_STOCK: Levels = { stocked: 0, available: 0, reserved: 0, committed: 0 };

export const initialReservation = (): ReservationState => ({ status: 'NONE' });
export const initialProduct = (): ProductState => ({ catalogued: false });

/** Merges lines of the same SKU so `2 × A + 1 × A` reserves 3 of A once. */
export function mergeLines(lines: readonly Line[]): Line[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku));
}

function levelChange(
  sku: string,
  next: Levels,
  cause: EventData<'StockLevelChanged'>['cause'],
  at: Date,
  orderId?: string,
): ProductEvent {
  return { type: 'StockLevelChanged', data: { sku, ...next, cause, changedAt: at.toISOString(), ...(orderId ? { orderId } : {}) } };
}

function levelsOf(product: ProductState | undefined): Levels {
  return product?.catalogued ? product : NO_STOCK;
}

export function decideReservation(
  command: ReservationCommand,
  reservation: ReservationState,
  products: ReadonlyMap<string, ProductState>,
): ReservationDecision {
  const none: ReservationDecision = { reservation: [], products: new Map() };
  const at = command.at.toISOString();
  switch (command.type) {
    case 'ReserveStock': {
      if (reservation.status !== 'NONE') return none;
      const lines = mergeLines(command.lines);
      const short = lines
        .map((l) => ({ sku: l.sku, requested: l.quantity, available: levelsOf(products.get(l.sku)).available }))
        .filter((l) => l.available < l.requested);
      if (short.length > 0) {
        return { ...none, reservation: [{ type: 'StockUnavailable', data: { orderId: command.orderId, shortSkus: short, checkedAt: at } }] };
      }
      const changes = new Map<string, ProductEvent[]>();
      for (const { sku, quantity } of lines) {
        const l = levelsOf(products.get(sku));
        changes.set(sku, [
          levelChange(sku, { ...l, available: l.available - quantity, reserved: l.reserved + quantity }, 'RESERVED', command.at, command.orderId),
        ]);
      }
      return { reservation: [{ type: 'StockReserved', data: { orderId: command.orderId, lines, reservedAt: at } }], products: changes };
    }
    case 'ReleaseStock': {
      if (reservation.status !== 'RESERVED') return none;
      const changes = new Map<string, ProductEvent[]>();
      for (const { sku, quantity } of reservation.lines) {
        const l = levelsOf(products.get(sku));
        changes.set(sku, [
          levelChange(sku, { ...l, available: l.available + quantity, reserved: l.reserved - quantity }, 'RELEASED', command.at, command.orderId),
        ]);
      }
      return {
        reservation: [{ type: 'StockReleased', data: { orderId: command.orderId, lines: reservation.lines, releasedAt: at } }],
        products: changes,
      };
    }
    case 'CommitStock': {
      if (reservation.status === 'COMMITTED') return none;
      if (reservation.status !== 'RESERVED') {
        throw new DomainError('ILLEGAL_STATE', `order ${command.orderId} completed without a stock reservation (${reservation.status})`);
      }
      const changes = new Map<string, ProductEvent[]>();
      for (const { sku, quantity } of reservation.lines) {
        const l = levelsOf(products.get(sku));
        changes.set(sku, [
          levelChange(sku, { ...l, reserved: l.reserved - quantity, committed: l.committed + quantity }, 'COMMITTED', command.at, command.orderId),
        ]);
      }
      return {
        reservation: [{ type: 'StockCommitted', data: { orderId: command.orderId, lines: reservation.lines, committedAt: at } }],
        products: changes,
      };
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
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

/** Every StockLevelChanged carries the complete levels, so a product's state is its last event. */
export function evolveProduct(state: ProductState, event: ProductEvent): ProductState {
  switch (event.type) {
    case 'ProductCatalogued':
      return state.catalogued ? state : { catalogued: true, sku: event.data.sku, ...NO_STOCK };
    case 'StockLevelChanged': {
      const { sku, stocked, available, reserved, committed } = event.data;
      return { catalogued: true, sku, stocked, available, reserved, committed };
    }
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
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
  const at = command.at.toISOString();
  if (!state.catalogued) {
    events.push({
      type: 'ProductCatalogued',
      data: { sku: command.sku, name: command.name, unitPrice: command.unitPrice, currency: command.currency, cataloguedAt: at },
    });
  }
  const l = levelsOf(state);
  const missing = command.availableAtLeast - l.available;
  if (missing > 0) {
    events.push(levelChange(command.sku, { ...l, stocked: l.stocked + missing, available: l.available + missing }, 'RESTOCKED', command.at));
  }
  return events;
}

export const productStream = (sku: string): string => `product-${sku}`;
export const reservationStream = (orderId: string): string => `reservation-${orderId}`;
