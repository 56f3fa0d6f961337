import { validateEventData } from '@orderflow/contracts';
import { DomainError } from '@orderflow/domain';
import fc from 'fast-check';
import {
  decideCatalogue,
  decideReservation,
  evolveProduct,
  evolveReservation,
  initialProduct,
  initialReservation,
  type CatalogueCommand,
  type ProductEvent,
  type ProductState,
  type ReservationCommand,
  type ReservationEvent,
  type ReservationState,
} from './stock.decider';

/*
 * Whatever history a product or reservation has, every event inventory decides must
 * pass its contract schema exactly (additionalProperties: false): consumers refuse
 * anything else. Histories are built by running generated commands through
 * decide/evolve from the initial state, so states are the ones inventory can reach.
 */

const sku = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
const id = fc.string({ minLength: 1, maxLength: 128 });
const at = fc.date({ min: new Date('1970-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });
const quantity = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(1, 9_999, 10_000), fc.integer({ min: 1, max: 10_000 }));
const stock = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 1_000_000_000 }));

type Command = CatalogueCommand | ReservationCommand;

const commandOver = (skus: string[], orders: string[]): fc.Arbitrary<Command> => {
  const knownSku = fc.constantFrom(...skus);
  const orderId = fc.constantFrom(...orders);
  return fc.oneof(
    fc.record({
      type: fc.constant('CatalogueProduct' as const),
      sku: knownSku,
      name: fc.string({ minLength: 1, maxLength: 200 }),
      unitPrice: fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.maxSafeNat()),
      currency: fc.stringMatching(/^[A-Z]{3}$/),
      availableAtLeast: stock,
      at,
    }),
    fc.record({
      type: fc.constant('ReserveStock' as const),
      orderId,
      // an unknown SKU now and then, and the same SKU twice in one order
      lines: fc.array(fc.record({ sku: fc.oneof({ weight: 5, arbitrary: knownSku }, { weight: 1, arbitrary: sku }), quantity }), {
        minLength: 1,
        maxLength: 6,
      }),
      at,
    }),
    fc.record({ type: fc.constant('ReleaseStock' as const), orderId, at }),
    fc.record({ type: fc.constant('CommitStock' as const), orderId, at }),
  );
};

const scenario = fc
  .record({ skus: fc.uniqueArray(sku, { minLength: 1, maxLength: 4 }), orders: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }) })
  .chain(({ skus, orders }) => fc.array(commandOver(skus, orders), { minLength: 1, maxLength: 40 }));

function assertValid(events: readonly (ProductEvent | ReservationEvent)[]): void {
  for (const event of events) validateEventData(event.type, event.data);
}

/** Runs the commands as the handler does; a coded refusal is a legal outcome, an invalid event is not. */
function run(commands: readonly Command[]): void {
  const reservations = new Map<string, ReservationState>();
  const products = new Map<string, ProductState>();
  for (const command of commands) {
    try {
      if (command.type === 'CatalogueProduct') {
        const current = products.get(command.sku) ?? initialProduct();
        const events = decideCatalogue(command, current);
        assertValid(events);
        products.set(command.sku, events.reduce(evolveProduct, current));
        continue;
      }
      const current = reservations.get(command.orderId) ?? initialReservation();
      const decision = decideReservation(command, current, products);
      assertValid(decision.reservation);
      reservations.set(command.orderId, decision.reservation.reduce(evolveReservation, current));
      for (const [changed, events] of decision.products) {
        assertValid(events);
        products.set(changed, events.reduce(evolveProduct, products.get(changed) ?? initialProduct()));
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
}

describe('inventory events against the contract', () => {
  it('every event decided for any history of catalogue, reserve, release and commit passes its schema', () => {
    fc.assert(fc.property(scenario, run), { numRuns: 400 });
  });
});
