import { DomainError } from '@orderflow/eventstore';
import {
  decideCatalogue,
  decideReservation,
  evolveProduct,
  evolveReservation,
  initialProduct,
  initialReservation,
  mergeLines,
  type CatalogueCommand,
  type Levels,
  type Line,
  type ProductEvent,
  type ProductState,
  type ReservationCommand,
  type ReservationDecision,
  type ReservationEvent,
  type ReservationState,
} from './stock.decider';

const at = new Date('2025-03-01T10:00:00.000Z');

const product = (sku: string, levels: Partial<Levels> & Pick<Levels, 'available'>): ProductState => {
  const reserved = levels.reserved ?? 0;
  const committed = levels.committed ?? 0;
  return {
    catalogued: true,
    sku,
    available: levels.available,
    reserved,
    committed,
    stocked: levels.stocked ?? levels.available + reserved + committed,
  };
};
const productsOf = (...states: ProductState[]): Map<string, ProductState> =>
  new Map(states.map((p) => [p.catalogued ? p.sku : '', p]));

const reserve = (orderId: string, lines: Line[]): ReservationCommand => ({ type: 'ReserveStock', orderId, lines, at });
const release = (orderId: string): ReservationCommand => ({ type: 'ReleaseStock', orderId, at });
const commit = (orderId: string): ReservationCommand => ({ type: 'CommitStock', orderId, at });

const reservation = (...history: ReservationEvent[]): ReservationState => history.reduce(evolveReservation, initialReservation());
const reserved = (orderId: string, lines: Line[]): ReservationEvent => ({
  type: 'StockReserved',
  data: { orderId, lines, reservedAt: at.toISOString() },
});
const released = (orderId: string, lines: Line[]): ReservationEvent => ({
  type: 'StockReleased',
  data: { orderId, lines, releasedAt: at.toISOString() },
});
const committed = (orderId: string, lines: Line[]): ReservationEvent => ({
  type: 'StockCommitted',
  data: { orderId, lines, committedAt: at.toISOString() },
});
const unavailable = (orderId: string): ReservationEvent => ({
  type: 'StockUnavailable',
  data: { orderId, shortSkus: [{ sku: 'MUG', requested: 1, available: 0 }], checkedAt: at.toISOString() },
});

/** The levels a decision leaves a SKU at: its last StockLevelChanged. */
function levelsAfter(decision: ReservationDecision, sku: string): Levels | undefined {
  const state = (decision.products.get(sku) ?? []).reduce(evolveProduct, initialProduct());
  if (!state.catalogued) return undefined;
  const { stocked, available, reserved: held, committed: sold } = state;
  return { stocked, available, reserved: held, committed: sold };
}

/** A small inventory: one reservation per order and every product, decided and evolved like the handler does. */
class Warehouse {
  readonly reservations = new Map<string, ReservationState>();
  constructor(readonly products: Map<string, ProductState>) {}

  run(command: ReservationCommand): ReservationDecision {
    const current = this.reservations.get(command.orderId) ?? initialReservation();
    const decision = decideReservation(command, current, this.products);
    this.reservations.set(command.orderId, decision.reservation.reduce(evolveReservation, current));
    for (const [sku, events] of decision.products) {
      this.products.set(sku, events.reduce(evolveProduct, this.products.get(sku) ?? initialProduct()));
    }
    return decision;
  }

  levels(sku: string): Levels {
    const p = this.products.get(sku);
    if (!p?.catalogued) throw new Error(`no product ${sku}`);
    return { stocked: p.stocked, available: p.available, reserved: p.reserved, committed: p.committed };
  }

  /** Every SKU whose levels do not add up, or went negative: empty when the invariant holds. */
  broken(): string[] {
    return [...this.products.values()].flatMap((p) =>
      p.catalogued &&
      (p.available + p.reserved + p.committed !== p.stocked || Math.min(p.available, p.reserved, p.committed) < 0)
        ? [p.sku]
        : [],
    );
  }
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused');
}

describe('stock decider', () => {
  describe('mergeLines', () => {
    it('adds up lines of the same SKU and sorts by SKU', () => {
      expect(
        mergeLines([
          { sku: 'TEE', quantity: 1 },
          { sku: 'MUG', quantity: 2 },
          { sku: 'TEE', quantity: 3 },
        ]),
      ).toEqual([
        { sku: 'MUG', quantity: 2 },
        { sku: 'TEE', quantity: 4 },
      ]);
    });
  });

  describe('reserving', () => {
    it('reserves every line and moves each SKU from available to reserved', () => {
      const decision = decideReservation(
        reserve('order-1', [
          { sku: 'TEE', quantity: 1 },
          { sku: 'MUG', quantity: 2 },
        ]),
        reservation(),
        productsOf(product('MUG', { available: 5 }), product('TEE', { available: 1 })),
      );
      expect(decision.reservation).toEqual([
        reserved('order-1', [
          { sku: 'MUG', quantity: 2 },
          { sku: 'TEE', quantity: 1 },
        ]),
      ]);
      expect(levelsAfter(decision, 'MUG')).toEqual({ stocked: 5, available: 3, reserved: 2, committed: 0 });
      expect(levelsAfter(decision, 'TEE')).toEqual({ stocked: 1, available: 0, reserved: 1, committed: 0 });
      expect(decision.products.get('MUG')).toMatchObject([{ type: 'StockLevelChanged', data: { cause: 'RESERVED', orderId: 'order-1' } }]);
    });

    it('reserves nothing when one SKU is short, naming exactly the short SKUs', () => {
      const decision = decideReservation(
        reserve('order-1', [
          { sku: 'MUG', quantity: 2 },
          { sku: 'TEE', quantity: 3 },
          { sku: 'CAP', quantity: 5 },
        ]),
        reservation(),
        productsOf(product('MUG', { available: 5 }), product('TEE', { available: 2 }), product('CAP', { available: 4, reserved: 6 })),
      );
      expect(decision.reservation).toEqual([
        {
          type: 'StockUnavailable',
          data: {
            orderId: 'order-1',
            shortSkus: [
              { sku: 'CAP', requested: 5, available: 4 },
              { sku: 'TEE', requested: 3, available: 2 },
            ],
            checkedAt: at.toISOString(),
          },
        },
      ]);
      expect(decision.products.size).toBe(0);
    });

    it('counts a SKU that was never catalogued as having nothing available', () => {
      const decision = decideReservation(reserve('order-1', [{ sku: 'GHOST', quantity: 1 }]), reservation(), productsOf());
      expect(decision.reservation).toMatchObject([
        { type: 'StockUnavailable', data: { shortSkus: [{ sku: 'GHOST', requested: 1, available: 0 }] } },
      ]);
      expect(decision.products.size).toBe(0);
    });

    it('merges duplicated SKU lines before checking availability', () => {
      const lines = [
        { sku: 'MUG', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ];
      const short = decideReservation(reserve('order-1', lines), reservation(), productsOf(product('MUG', { available: 2 })));
      expect(short.reservation).toMatchObject([
        { type: 'StockUnavailable', data: { shortSkus: [{ sku: 'MUG', requested: 3, available: 2 }] } },
      ]);

      const enough = decideReservation(reserve('order-1', lines), reservation(), productsOf(product('MUG', { available: 3 })));
      expect(enough.reservation).toEqual([reserved('order-1', [{ sku: 'MUG', quantity: 3 }])]);
      expect(enough.products.get('MUG')).toHaveLength(1);
      expect(levelsAfter(enough, 'MUG')).toEqual({ stocked: 3, available: 0, reserved: 3, committed: 0 });
    });

    it('reserves nothing more when the order is delivered twice', () => {
      const lines = [{ sku: 'MUG', quantity: 1 }];
      const decision = decideReservation(
        reserve('order-1', lines),
        reservation(reserved('order-1', lines)),
        productsOf(product('MUG', { available: 5 })),
      );
      expect(decision.reservation).toEqual([]);
      expect(decision.products.size).toBe(0);
    });

    it('does not retry a reservation that was already found unavailable', () => {
      const decision = decideReservation(
        reserve('order-1', [{ sku: 'MUG', quantity: 1 }]),
        reservation(unavailable('order-1')),
        productsOf(product('MUG', { available: 5 })),
      );
      expect(decision).toEqual({ reservation: [], products: new Map() });
    });
  });

  describe('releasing', () => {
    it('gives reserved stock back to available', () => {
      const lines = [{ sku: 'MUG', quantity: 2 }];
      const decision = decideReservation(
        release('order-1'),
        reservation(reserved('order-1', lines)),
        productsOf(product('MUG', { available: 3, reserved: 2 })),
      );
      expect(decision.reservation).toEqual([released('order-1', lines)]);
      expect(levelsAfter(decision, 'MUG')).toEqual({ stocked: 5, available: 5, reserved: 0, committed: 0 });
    });

    it.each([
      ['nothing was reserved', reservation()],
      ['the stock was unavailable', reservation(unavailable('order-1'))],
      ['it was already released', reservation(reserved('order-1', [{ sku: 'MUG', quantity: 2 }]), released('order-1', [{ sku: 'MUG', quantity: 2 }]))],
      ['it was committed', reservation(reserved('order-1', [{ sku: 'MUG', quantity: 2 }]), committed('order-1', [{ sku: 'MUG', quantity: 2 }]))],
    ])('releases nothing when %s', (_, state) => {
      const decision = decideReservation(release('order-1'), state, productsOf(product('MUG', { available: 3, reserved: 2 })));
      expect(decision).toEqual({ reservation: [], products: new Map() });
    });
  });

  describe('committing', () => {
    it('moves reserved stock to committed when the order completes', () => {
      const lines = [{ sku: 'MUG', quantity: 2 }];
      const decision = decideReservation(
        commit('order-1'),
        reservation(reserved('order-1', lines)),
        productsOf(product('MUG', { available: 3, reserved: 2 })),
      );
      expect(decision.reservation).toEqual([committed('order-1', lines)]);
      expect(levelsAfter(decision, 'MUG')).toEqual({ stocked: 5, available: 3, reserved: 0, committed: 2 });
    });

    it('commits only once', () => {
      const lines = [{ sku: 'MUG', quantity: 2 }];
      const decision = decideReservation(
        commit('order-1'),
        reservation(reserved('order-1', lines), committed('order-1', lines)),
        productsOf(product('MUG', { available: 3, committed: 2 })),
      );
      expect(decision).toEqual({ reservation: [], products: new Map() });
    });

    it.each([
      ['nothing was reserved', reservation()],
      ['the stock was unavailable', reservation(unavailable('order-1'))],
      ['the reservation was released', reservation(reserved('order-1', [{ sku: 'MUG', quantity: 2 }]), released('order-1', [{ sku: 'MUG', quantity: 2 }]))],
    ])('refuses to commit when %s', (_, state) => {
      const error = thrownBy(() => decideReservation(commit('order-1'), state, productsOf(product('MUG', { available: 5 }))));
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'ILLEGAL_STATE' });
    });
  });

  describe('stock levels', () => {
    it('keeps available + reserved + committed = stocked through reserve, release and commit', () => {
      const warehouse = new Warehouse(productsOf(product('MUG', { available: 10 }), product('TEE', { available: 5 })));
      const steps: ReservationCommand[] = [
        reserve('order-1', [
          { sku: 'MUG', quantity: 3 },
          { sku: 'TEE', quantity: 2 },
        ]),
        reserve('order-2', [{ sku: 'MUG', quantity: 4 }]),
        reserve('order-3', [
          { sku: 'MUG', quantity: 4 },
          { sku: 'TEE', quantity: 1 },
        ]),
        release('order-1'),
        commit('order-2'),
        release('order-2'),
        commit('order-2'),
      ];
      const brokenAfterEachStep = steps.map((step) => {
        warehouse.run(step);
        return warehouse.broken();
      });

      expect(brokenAfterEachStep).toEqual(steps.map(() => []));
      expect(warehouse.reservations.get('order-3')).toEqual({ status: 'UNAVAILABLE' });
      expect(warehouse.levels('MUG')).toEqual({ stocked: 10, available: 6, reserved: 0, committed: 4 });
      expect(warehouse.levels('TEE')).toEqual({ stocked: 5, available: 5, reserved: 0, committed: 0 });
    });

    it('lets a second order take what the first one released', () => {
      const warehouse = new Warehouse(productsOf(product('MUG', { available: 2 })));
      warehouse.run(reserve('order-1', [{ sku: 'MUG', quantity: 2 }]));
      const refused = warehouse.run(reserve('order-2', [{ sku: 'MUG', quantity: 2 }]));
      warehouse.run(release('order-1'));
      const accepted = warehouse.run(reserve('order-3', [{ sku: 'MUG', quantity: 2 }]));

      expect(refused.reservation).toMatchObject([{ type: 'StockUnavailable' }]);
      expect(accepted.reservation).toMatchObject([{ type: 'StockReserved' }]);
      expect(warehouse.levels('MUG')).toEqual({ stocked: 2, available: 0, reserved: 2, committed: 0 });
    });
  });

  describe('cataloguing', () => {
    const catalogue = (availableAtLeast: number, overrides: Partial<CatalogueCommand> = {}): CatalogueCommand => ({
      type: 'CatalogueProduct',
      sku: 'MUG',
      name: 'Mug',
      unitPrice: 1_250,
      currency: 'EUR',
      availableAtLeast,
      at,
      ...overrides,
    });
    const productAfter = (events: ProductEvent[], state: ProductState = initialProduct()): ProductState =>
      events.reduce(evolveProduct, state);

    it('catalogues a new product and stocks it', () => {
      const events = decideCatalogue(catalogue(10), initialProduct());
      expect(events).toEqual([
        {
          type: 'ProductCatalogued',
          data: { sku: 'MUG', name: 'Mug', unitPrice: 1_250, currency: 'EUR', cataloguedAt: at.toISOString() },
        },
        {
          type: 'StockLevelChanged',
          data: { sku: 'MUG', stocked: 10, available: 10, reserved: 0, committed: 0, cause: 'RESTOCKED', changedAt: at.toISOString() },
        },
      ]);
      expect(productAfter(events)).toEqual(product('MUG', { available: 10 }));
    });

    it('catalogues a product with no stock without a level change', () => {
      expect(decideCatalogue(catalogue(0), initialProduct())).toMatchObject([{ type: 'ProductCatalogued' }]);
    });

    it('catalogues once: a second run with enough stock changes nothing', () => {
      const state = productAfter(decideCatalogue(catalogue(10), initialProduct()));
      expect(decideCatalogue(catalogue(10, { name: 'Renamed mug', unitPrice: 999 }), state)).toEqual([]);
      expect(decideCatalogue(catalogue(4), state)).toEqual([]);
    });

    it('only tops available stock up, keeping reserved and committed stock', () => {
      const state = product('MUG', { available: 2, reserved: 3, committed: 5 });
      const events = decideCatalogue(catalogue(10), state);
      expect(events).toMatchObject([{ type: 'StockLevelChanged', data: { cause: 'RESTOCKED' } }]);
      expect(productAfter(events, state)).toEqual(product('MUG', { stocked: 18, available: 10, reserved: 3, committed: 5 }));
    });
  });
});
