import type { DataSource, EntityManager } from 'typeorm';
import { ConcurrencyError, toDatabaseError, versionClashOf } from './errors';
import { pipelineTransactions } from './pipelined-transaction';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` in a transaction, retrying the whole of it when an append lost an
 * optimistic-concurrency race; past the last attempt the conflict is thrown.
 *
 * This is the database boundary: a transient driver or pool failure leaves as a
 * coded, `retriable` TransientDatabaseError or DatabaseUnavailableError (the
 * original as `cause`), so callers need no classification of their own.
 *
 * It is also the unit of work's after-commit hook: when the transaction wrote
 * outbox rows, the relay of this DataSource is woken once it committed, so no
 * caller has to remember to.
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  work: (tx: EntityManager) => Promise<T>,
  { attempts = 5, baseDelayMs = 10 }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const committed: (() => void)[] = [];
      const result = await transaction(dataSource, (tx) => {
        afterCommit.set(tx, committed);
        return work(tx);
      });
      for (const action of committed) action();
      return result;
    } catch (thrown) {
      // A batch's final write goes out with its COMMIT: a version clash surfaces there.
      const error = versionClashOf(thrown) ?? thrown;
      if (!(error instanceof ConcurrencyError) || attempt >= attempts) throw toDatabaseError(error);
      await sleep(baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
  }
}

const afterCommit = new WeakMap<EntityManager, (() => void)[]>();

/**
 * Runs `action` once the transaction of `tx` committed (never when it rolled back),
 * when `tx` is one of `inTransaction`'s; elsewhere the action is dropped, so it
 * must only be something that can be done without, or that has another way
 * (`runsAfterCommit` says which): keeping a cache fresh, waking this process's relay.
 */
export function onCommitted(tx: EntityManager, action: () => void): void {
  afterCommit.get(tx)?.push(action);
}

/** Whether what `onCommitted` is given for `tx` will run: `tx` is one of `inTransaction`'s. */
export function runsAfterCommit(tx: EntityManager): boolean {
  return afterCommit.has(tx);
}

/** `DataSource.transaction`, on a query runner whose BEGIN and COMMIT ride with the first and last statements (`pipelineTransactions`). */
async function transaction<T>(dataSource: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  pipelineTransactions(runner);
  try {
    await runner.startTransaction();
    const result = await work(runner.manager);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    try {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
    } catch {
      // The error that ended the transaction is the one to report.
    }
    throw error;
  } finally {
    await runner.release();
  }
}
