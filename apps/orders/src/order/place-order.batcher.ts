import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@orderflow/domain';
import { inTransaction, withEventBatch } from '@orderflow/eventstore';
import { DataSource } from 'typeorm';
import { CatalogCache } from '../catalog/catalog-cache';
import { placeOrder, type PlaceOrderInput } from './place-order.handler';

type Placed = Awaited<ReturnType<typeof placeOrder>>;

interface Waiting {
  input: PlaceOrderInput;
  resolve(placed: Placed): void;
  reject(error: unknown): void;
}

/** Orders placed in one transaction at most; more wait for the next. */
const MAX_GROUP = 100;
/** Transactions placing orders at the same time. */
const MAX_CONCURRENT_GROUPS = 2;

/**
 * Group commit for `POST /orders`: requests that arrive while a transaction is
 * committing are placed together in the next one, so a burst costs a few commits
 * instead of one per order, and each group's events, outbox rows and summaries are
 * written in one statement each (a unit of work, as for a consumer batch).
 *
 * A refusal of one request (a DomainError: unknown SKU, bad Idempotency-Key use)
 * is thrown before that request writes anything, so it answers that request alone.
 * Anything else rolls the group back and each of its requests is placed again in
 * a transaction of its own, so one request never decides another's answer.
 */
@Injectable()
export class PlaceOrderBatcher {
  private readonly waiting: Waiting[] = [];
  private running = 0;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
  ) {}

  place(input: PlaceOrderInput): Promise<Placed> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.running >= MAX_CONCURRENT_GROUPS || this.waiting.length === 0) return;
    const group = this.waiting.splice(0, MAX_GROUP);
    this.running++;
    void this.placeGroup(group).finally(() => {
      this.running--;
      this.next();
    });
  }

  private async placeGroup(group: Waiting[]): Promise<void> {
    const products = (skus: readonly string[]) => this.catalog.lookup(skus);
    try {
      const outcomes = await inTransaction(this.dataSource, (tx) =>
        withEventBatch(tx, async () => {
          const results: ({ placed: Placed } | { refused: DomainError })[] = [];
          for (const { input } of group) {
            try {
              results.push({ placed: await placeOrder(tx, input, products) });
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              results.push({ refused: error });
            }
          }
          return results;
        }),
      );
      outcomes.forEach((outcome, i) => ('placed' in outcome ? group[i]!.resolve(outcome.placed) : group[i]!.reject(outcome.refused)));
    } catch (error) {
      if (group.length === 1) return group[0]!.reject(error);
      await Promise.all(
        group.map((waiting) =>
          inTransaction(this.dataSource, (tx) => placeOrder(tx, waiting.input, products)).then(
            (placed) => waiting.resolve(placed),
            (alone: unknown) => waiting.reject(alone),
          ),
        ),
      );
    }
  }
}
