import type { EventData } from '@orderflow/contracts';
import { deciderSpecification, stateFrom } from '@orderflow/domain';
import {
  catalogueDecider,
  evolveProduct,
  initialProduct,
  mergeLines,
  reservationDecider,
  type CatalogueCommand,
  type Levels,
  type Line,
  type ProductEvent,
  type ReservationCommand,
  type ReservationEvent,
} from './stock.decider';

const at = new Date('2025-03-01T10:00:00.000Z');
const later = new Date('2025-03-01T11:00:00.000Z');

const MUG = { name: 'Mug', unitPrice: 1_250, currency: 'EUR' };
const TEE = { name: 'Tee', unitPrice: 2_000, currency: 'EUR' };
const CAP = { name: 'Cap', unitPrice: 900, currency: 'EUR' };
const entries: Record<string, typeof MUG> = { MUG, TEE, CAP };

const catalogued = (sku: string): ProductEvent => ({
  type: 'ProductCatalogued',
  data: { sku, ...entries[sku]!, cataloguedAt: at.toISOString() },
});
const levelChanged = (
  sku: string,
  levels: Levels,
  cause: EventData<'StockLevelChanged'>['cause'],
  orderId?: string,
  when: Date = at,
): ProductEvent => ({
  type: 'StockLevelChanged',
  data: {
    sku,
    stocked: levels.stocked,
    available: levels.available,
    reserved: levels.reserved,
    committed: levels.committed,
    cause,
    changedAt: when.toISOString(),
    ...entries[sku]!,
    ...(orderId ? { orderId } : {}),
  },
});
/** A catalogued product at these levels: its history as inventory records it. */
const stocked = (sku: string, levels: Partial<Levels> & Pick<Levels, 'available'>): ProductEvent[] => {
  const reserved = levels.reserved ?? 0;
  const committed = levels.committed ?? 0;
  const stock = levels.stocked ?? levels.available + reserved + committed;
  return [catalogued(sku), levelChanged(sku, { stocked: stock, available: levels.available, reserved, committed }, 'RESTOCKED')];
};

const reserve = (orderId: string, lines: Line[]): ReservationCommand => ({ type: 'ReserveStock', orderId, lines, at });
const release = (orderId: string): ReservationCommand => ({ type: 'ReleaseStock', orderId, at: later });
const commit = (orderId: string): ReservationCommand => ({ type: 'CommitStock', orderId, at: later });

const reserved = (orderId: string, lines: Line[]): ReservationEvent => ({ type: 'StockReserved', data: { orderId, lines, reservedAt: at.toISOString() } });
const released = (orderId: string, lines: Line[]): ReservationEvent => ({
  type: 'StockReleased',
  data: { orderId, lines, releasedAt: later.toISOString() },
});
const committed = (orderId: string, lines: Line[]): ReservationEvent => ({
  type: 'StockCommitted',
  data: { orderId, lines, committedAt: later.toISOString() },
});
const unavailable = (orderId: string): ReservationEvent => ({
  type: 'StockUnavailable',
  data: { orderId, shortSkus: [{ sku: 'MUG', requested: 1, available: 0 }], checkedAt: at.toISOString() },
});
const voided = (orderId: string): ReservationEvent => ({ type: 'ReservationVoided', data: { orderId, voidedAt: later.toISOString() } });

const TWO_MUGS = [{ sku: 'MUG', quantity: 2 }];

describe('stock decider', () => {
  const spec = deciderSpecification(reservationDecider);

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
    it('reserves every line and moves each SKU from available to reserved, carrying the whole catalog entry', () => {
      spec
        .given(...stocked('MUG', { available: 5 }), ...stocked('TEE', { available: 1 }))
        .when(
          reserve('order-1', [
            { sku: 'TEE', quantity: 1 },
            { sku: 'MUG', quantity: 2 },
          ]),
        )
        .then([
          reserved('order-1', [
            { sku: 'MUG', quantity: 2 },
            { sku: 'TEE', quantity: 1 },
          ]),
          levelChanged('MUG', { stocked: 5, available: 3, reserved: 2, committed: 0 }, 'RESERVED', 'order-1'),
          levelChanged('TEE', { stocked: 1, available: 0, reserved: 1, committed: 0 }, 'RESERVED', 'order-1'),
        ]);
    });

    it('reserves nothing when one SKU is short, naming exactly the short SKUs', () => {
      spec
        .given(...stocked('MUG', { available: 5 }), ...stocked('TEE', { available: 2 }), ...stocked('CAP', { available: 4, reserved: 6 }))
        .when(
          reserve('order-1', [
            { sku: 'MUG', quantity: 2 },
            { sku: 'TEE', quantity: 3 },
            { sku: 'CAP', quantity: 5 },
          ]),
        )
        .then([
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
    });

    it('counts a SKU that was never catalogued as having nothing available', () => {
      spec
        .given()
        .when(reserve('order-1', [{ sku: 'GHOST', quantity: 1 }]))
        .then([{ type: 'StockUnavailable', data: { orderId: 'order-1', shortSkus: [{ sku: 'GHOST', requested: 1, available: 0 }], checkedAt: at.toISOString() } }]);
    });

    it('merges duplicated SKU lines before checking availability', () => {
      const lines = [
        { sku: 'MUG', quantity: 2 },
        { sku: 'MUG', quantity: 1 },
      ];
      spec
        .given(...stocked('MUG', { available: 2 }))
        .when(reserve('order-1', lines))
        .then([{ type: 'StockUnavailable', data: { orderId: 'order-1', shortSkus: [{ sku: 'MUG', requested: 3, available: 2 }], checkedAt: at.toISOString() } }]);
      spec
        .given(...stocked('MUG', { available: 3 }))
        .when(reserve('order-1', lines))
        .then([
          reserved('order-1', [{ sku: 'MUG', quantity: 3 }]),
          levelChanged('MUG', { stocked: 3, available: 0, reserved: 3, committed: 0 }, 'RESERVED', 'order-1'),
        ]);
    });

    it('refuses an order whose lines of one SKU add up to more than the contract allows in a line', () => {
      spec
        .given(...stocked('MUG', { available: 50_000 }))
        .when(
          reserve('order-1', [
            { sku: 'MUG', quantity: 10_000 },
            { sku: 'MUG', quantity: 1 },
          ]),
        )
        .thenThrows('VALIDATION', /10001 × MUG/);
    });

    it('reserves nothing more when the order is delivered twice', () => {
      spec
        .given(...stocked('MUG', { available: 5 }), reserved('order-1', TWO_MUGS))
        .when(reserve('order-1', TWO_MUGS))
        .thenNothingHappened();
    });

    it('does not retry a reservation that was already found unavailable', () => {
      spec
        .given(...stocked('MUG', { available: 5 }), unavailable('order-1'))
        .when(reserve('order-1', TWO_MUGS))
        .thenNothingHappened();
    });
  });

  describe('releasing', () => {
    it('gives reserved stock back to available', () => {
      spec
        .given(...stocked('MUG', { available: 3, reserved: 2 }), reserved('order-1', TWO_MUGS))
        .when(release('order-1'))
        .then([
          released('order-1', TWO_MUGS),
          levelChanged('MUG', { stocked: 5, available: 5, reserved: 0, committed: 0 }, 'RELEASED', 'order-1', later),
        ]);
    });

    it.each([
      ['the stock was unavailable', [unavailable('order-1')]],
      ['it was already released', [reserved('order-1', TWO_MUGS), released('order-1', TWO_MUGS)]],
      ['it was committed', [reserved('order-1', TWO_MUGS), committed('order-1', TWO_MUGS)]],
    ])('releases nothing when %s', (_, history) => {
      spec
        .given(...stocked('MUG', { available: 3, reserved: 2 }), ...history)
        .when(release('order-1'))
        .thenNothingHappened();
    });
  });

  describe('cancelled before it was placed', () => {
    it('leaves a tombstone when the order is cancelled before inventory saw it placed', () => {
      spec
        .given(...stocked('MUG', { available: 5 }))
        .when(release('order-1'))
        .then([voided('order-1')]);
    });

    it('reserves nothing for an order placed after its tombstone', () => {
      spec
        .given(...stocked('MUG', { available: 5 }), voided('order-1'))
        .when(reserve('order-1', TWO_MUGS))
        .thenNothingHappened();
    });

    it('voids only once when the cancellation arrives twice', () => {
      spec.given(voided('order-1')).when(release('order-1')).thenNothingHappened();
    });

    it('refuses to commit a voided reservation', () => {
      spec.given(voided('order-1')).when(commit('order-1')).thenThrows('ILLEGAL_STATE', /VOIDED/);
    });
  });

  describe('committing', () => {
    it('moves reserved stock to committed when the order completes', () => {
      spec
        .given(...stocked('MUG', { available: 3, reserved: 2 }), reserved('order-1', TWO_MUGS))
        .when(commit('order-1'))
        .then([
          committed('order-1', TWO_MUGS),
          levelChanged('MUG', { stocked: 5, available: 3, reserved: 0, committed: 2 }, 'COMMITTED', 'order-1', later),
        ]);
    });

    it('commits only once', () => {
      spec
        .given(...stocked('MUG', { available: 3, committed: 2 }), reserved('order-1', TWO_MUGS), committed('order-1', TWO_MUGS))
        .when(commit('order-1'))
        .thenNothingHappened();
    });

    it.each([
      ['nothing was reserved', [], /NONE/],
      ['the stock was unavailable', [unavailable('order-1')], /UNAVAILABLE/],
      ['the reservation was released', [reserved('order-1', TWO_MUGS), released('order-1', TWO_MUGS)], /RELEASED/],
    ])('refuses to commit when %s', (_, history, message) => {
      spec
        .given(...stocked('MUG', { available: 5 }), ...history)
        .when(commit('order-1'))
        .thenThrows('ILLEGAL_STATE', message);
    });
  });

  describe('stock levels', () => {
    /** Runs commands for several orders against one set of products, as the handler does stream by stream. */
    function warehouse(products: ProductEvent[], commands: ReservationCommand[]) {
      let productEvents = products;
      const byOrder = new Map<string, ReservationEvent[]>();
      const decided = commands.map((command) => {
        const history = [...productEvents, ...(byOrder.get(command.orderId) ?? [])];
        const events = reservationDecider.decide(command, stateFrom(reservationDecider, history));
        const reservation = events.filter((e): e is ReservationEvent => e.type !== 'ProductCatalogued' && e.type !== 'StockLevelChanged');
        byOrder.set(command.orderId, [...(byOrder.get(command.orderId) ?? []), ...reservation]);
        productEvents = [...productEvents, ...events.filter((e): e is ProductEvent => e.type === 'StockLevelChanged')];
        return events;
      });
      const levels = (sku: string): Levels => {
        const p = productEvents.filter((e) => e.data.sku === sku).reduce(evolveProduct, initialProduct());
        if (!p.catalogued) throw new Error(`no product ${sku}`);
        return { stocked: p.stocked, available: p.available, reserved: p.reserved, committed: p.committed };
      };
      return { decided, levels, reservations: byOrder };
    }

    it('keeps available + reserved + committed = stocked through reserve, release and commit', () => {
      const { levels, reservations } = warehouse(
        [...stocked('MUG', { available: 10 }), ...stocked('TEE', { available: 5 })],
        [
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
        ],
      );
      expect(reservations.get('order-3')?.map((e) => e.type)).toEqual(['StockUnavailable']);
      expect(levels('MUG')).toEqual({ stocked: 10, available: 6, reserved: 0, committed: 4 });
      expect(levels('TEE')).toEqual({ stocked: 5, available: 5, reserved: 0, committed: 0 });
    });

    it('lets a second order take what the first one released', () => {
      const { decided, levels } = warehouse(stocked('MUG', { available: 2 }), [
        reserve('order-1', TWO_MUGS),
        reserve('order-2', TWO_MUGS),
        release('order-1'),
        reserve('order-3', TWO_MUGS),
      ]);
      expect(decided.map((events) => events[0]?.type)).toEqual(['StockReserved', 'StockUnavailable', 'StockReleased', 'StockReserved']);
      expect(levels('MUG')).toEqual({ stocked: 2, available: 0, reserved: 2, committed: 0 });
    });
  });

  describe('the product state', () => {
    it('keeps the name and price of a StockLevelChanged recorded before it carried them', () => {
      const legacy: ProductEvent = {
        type: 'StockLevelChanged',
        data: { sku: 'MUG', stocked: 7, available: 7, reserved: 0, committed: 0, cause: 'RESTOCKED', changedAt: at.toISOString() },
      };
      spec
        .given(catalogued('MUG'), legacy)
        .when(reserve('order-1', TWO_MUGS))
        .then([
          reserved('order-1', TWO_MUGS),
          levelChanged('MUG', { stocked: 7, available: 5, reserved: 2, committed: 0 }, 'RESERVED', 'order-1'),
        ]);
    });
  });

  describe('cataloguing', () => {
    const catalogueSpec = deciderSpecification(catalogueDecider);
    const catalogue = (availableAtLeast: number, overrides: Partial<CatalogueCommand> = {}): CatalogueCommand => ({
      type: 'CatalogueProduct',
      sku: 'MUG',
      ...MUG,
      availableAtLeast,
      at,
      ...overrides,
    });

    it('catalogues a new product and stocks it', () => {
      catalogueSpec
        .given()
        .when(catalogue(10))
        .then([catalogued('MUG'), levelChanged('MUG', { stocked: 10, available: 10, reserved: 0, committed: 0 }, 'RESTOCKED')]);
    });

    it('catalogues a product with no stock without a level change', () => {
      catalogueSpec.given().when(catalogue(0)).then([catalogued('MUG')]);
    });

    it('catalogues once: a second run with enough stock changes nothing', () => {
      catalogueSpec
        .given(...stocked('MUG', { available: 10 }))
        .when(catalogue(10, { name: 'Renamed mug', unitPrice: 999 }))
        .thenNothingHappened();
      catalogueSpec.given(...stocked('MUG', { available: 10 })).when(catalogue(4)).thenNothingHappened();
    });

    it('only tops available stock up, keeping reserved and committed stock', () => {
      catalogueSpec
        .given(...stocked('MUG', { available: 2, reserved: 3, committed: 5 }))
        .when(catalogue(10))
        .then([levelChanged('MUG', { stocked: 18, available: 10, reserved: 3, committed: 5 }, 'RESTOCKED')]);
    });
  });
});
