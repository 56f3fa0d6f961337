import pg, { type QueryResult } from 'pg';
import { QueryFailedError, type EntityManager, type QueryRunner } from 'typeorm';

/**
 * A transaction that costs two round trips to PostgreSQL instead of four.
 *
 * node-postgres sends one statement and waits for its answer before the next, so
 * a unit of work of BEGIN, a read, a write and COMMIT made four round trips, each
 * a wake-up of the database and of this process. Here BEGIN is held back and sent
 * in the same message as the transaction's first statement, and the unit of work's
 * final write (`holdUntilCommit`) in the same message as COMMIT, both as one
 * simple-protocol query of two statements (`BEGIN; <first>` and `<write>; COMMIT`).
 * The simple protocol takes no parameters, so those two statements travel with
 * their values written in as SQL literals (escaped by the rules node-postgres
 * itself uses to send them as text). A statement that cannot be written so (binary
 * data, dollar quoting, several statements) is sent apart, as before.
 *
 * Nothing else changes: the statements, their order and the transaction's bounds
 * are the same. A transaction that never sent a statement sends nothing at all,
 * and one whose only statement is the held write sends it alone, which PostgreSQL
 * runs as a transaction of its own.
 */
interface Pipeline {
  /** BEGIN is due but not sent yet. */
  beginPending: boolean;
  /** The server has a transaction open for us. */
  open: boolean;
  /** The next statement may wait for COMMIT (set by `holdUntilCommit`). */
  holdNext: boolean;
  held?: { sql: string; parameters: unknown[] };
}

type QueryFn = QueryRunner['query'];
interface RawClient {
  query(text: string): Promise<QueryResult | QueryResult[]>;
}

const pipelines = new WeakMap<QueryRunner, Pipeline>();

/** Makes `runner`'s transactions pipelined (see above) until it is released. */
export function pipelineTransactions(runner: QueryRunner): void {
  if (runner.connection.driver.options.type !== 'postgres' || pipelines.has(runner)) return;
  const state: Pipeline = { beginPending: false, open: false, holdNext: false };
  pipelines.set(runner, state);
  const send = runner.query.bind(runner) as (sql: string, parameters?: unknown[], structured?: boolean) => Promise<unknown>;
  const raw = async (sql: string, parameters: unknown[] | undefined): Promise<unknown> => {
    const client = (await runner.connect()) as RawClient;
    try {
      const results = await client.query(sql);
      const last = Array.isArray(results) ? results.at(-1)! : results;
      return last.command === 'DELETE' || last.command === 'UPDATE' ? [last.rows, last.rowCount] : last.rows;
    } catch (error) {
      throw new QueryFailedError(sql, parameters, error as Error);
    }
  };

  /** Sends COMMIT (with `before` ahead of it in the same message); the transaction is closed only once that succeeded, so a failure is rolled back. */
  const commit = async (before?: { sql: string; parameters: unknown[] }): Promise<unknown> => {
    const inline = before && inlined(before.sql, before.parameters);
    let result: unknown;
    if (!before) result = await send('COMMIT');
    else if (inline === undefined) {
      await send(before.sql, before.parameters);
      result = await send('COMMIT');
    } else result = await raw(`${inline};\nCOMMIT`, before.parameters);
    state.open = false;
    return result;
  };

  const query = async (sql: string, parameters?: unknown[], structured?: boolean): Promise<unknown> => {
    if (sql === 'START TRANSACTION' && !state.open && !state.beginPending) {
      state.beginPending = true;
      return [];
    }
    if (sql === 'ROLLBACK') {
      state.held = undefined;
      state.beginPending = false;
      if (!state.open) return [];
      state.open = false;
      return send(sql);
    }
    if (sql === 'COMMIT') {
      const held = state.held;
      state.held = undefined;
      if (!state.beginPending) return commit(held);
      // Nothing was sent yet: the held write alone is a transaction of its own.
      state.beginPending = false;
      return held ? send(held.sql, held.parameters) : [];
    }
    if (state.holdNext) {
      state.holdNext = false;
      if (state.held === undefined && !structured) {
        state.held = { sql, parameters: parameters ?? [] };
        return [];
      }
    }
    if (state.held) {
      const held = state.held;
      state.held = undefined;
      await query(held.sql, held.parameters);
    }
    if (state.beginPending) {
      state.beginPending = false;
      state.open = true;
      const inline = structured ? undefined : inlined(sql, parameters ?? []);
      if (inline !== undefined) return raw(`BEGIN;\n${inline}`, parameters);
      await send('START TRANSACTION');
    }
    return send(sql, parameters, structured);
  };
  runner.query = query as QueryFn;
}

/**
 * Runs a data-modifying statement as the transaction's last, sent together with
 * its COMMIT when the transaction is pipelined (its result is not returned, and a
 * failure surfaces from the commit). Elsewhere it is sent now.
 */
export async function holdUntilCommit(tx: EntityManager, sql: string, parameters: unknown[]): Promise<void> {
  const state = tx.queryRunner && pipelines.get(tx.queryRunner);
  if (state) state.holdNext = true;
  try {
    await tx.query(sql, parameters);
  } finally {
    if (state) state.holdNext = false;
  }
}

/**
 * `sql` with each `$n` replaced by its value as an SQL literal, or undefined when
 * that cannot be done safely: a value that is binary, a statement with dollar
 * quoting, backslash escapes, comments or more than one statement.
 */
export function inlined(sql: string, parameters: readonly unknown[]): string | undefined {
  if (sql.includes('\\')) return undefined;
  const literals: string[] = [];
  for (const value of parameters) {
    const literal = literalOf(value);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  let out = '';
  let from = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      if (end < 0) return undefined;
      // A doubled quote inside the literal or identifier is read as two adjacent ones.
      i = end;
      continue;
    }
    if (c === ';' || (c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '*')) return undefined;
    if (c !== '$') continue;
    const digits = /^\d+/.exec(sql.slice(i + 1, i + 12))?.[0];
    if (!digits) return undefined;
    const index = Number(digits) - 1;
    if (index < 0 || index >= literals.length) return undefined;
    out += sql.slice(from, i) + literals[index];
    i += digits.length;
    from = i + 1;
  }
  return out + sql.slice(from);
}

function literalOf(value: unknown): string | undefined {
  if (value instanceof Uint8Array) return undefined;
  const prepared: unknown = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  if (typeof prepared !== 'string') return undefined;
  return escapeLiteral(prepared);
}

/** As node-postgres's `escapeLiteral`, without its character-by-character loop (a batch's payloads run to tens of kilobytes). */
export function escapeLiteral(text: string): string {
  const quoted = text.replace(/'/g, "''");
  return text.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}
