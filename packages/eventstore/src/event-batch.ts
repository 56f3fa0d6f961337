import type { AnyEvent } from '@orderflow/contracts';
import type { EntityManager } from 'typeorm';

/**
 * The unit of work of a consumer batch: streams are read once per batch and kept
 * here, appends are decided in memory and written at the end as one multi-row
 * statement per table, and read-model writes keyed by row keep only the last one.
 *
 * It is bound to its transaction, so handlers keep calling `readStream`,
 * `appendToStream` and `upsertRow` with `tx` and need not know whether they run
 * alone or in a batch. Outside a batch those functions write at once.
 */
export interface CachedStream {
  /** Version of the stream in the database, as read at the start of this batch. */
  storedVersion: number;
  /** Its stored events, when the whole stream was read. */
  stored?: AnyEvent[];
  /** Its newest stored event, when only that was read (`readLastEvent`). */
  storedLast?: AnyEvent;
  /** Appended in this batch, not yet written. */
  appended: AnyEvent[];
}

export interface PendingRow {
  streamId: string;
  version: number;
  event: AnyEvent;
}

/**
 * How a read model writes whole rows: many at once (one multi-row upsert), each
 * row replacing the one with its key.
 */
export interface RowUpsert<Row> {
  /** For messages: the read model's table. */
  readonly table: string;
  write(tx: EntityManager, rows: Row[]): Promise<void>;
  /**
   * The same write as one data-modifying statement whose parameters are numbered
   * from `$first`, so the end of a batch can send it together with the batch's
   * other writes (one round trip). Without it the rows are written by `write`.
   */
  statement?(rows: Row[], first: number): WriteStatement;
  /** True when `row` is older than `than`, of the same key: in a batch, it does not replace it. */
  isOlder?(row: Row, than: Row): boolean;
}

/** A read model whose write can ride in a batch's combined statement. */
export type CombinableUpsert<Row> = RowUpsert<Row> & Required<Pick<RowUpsert<Row>, 'statement'>>;

/** One data-modifying SQL statement and its parameters. */
export interface WriteStatement {
  sql: string;
  parameters: unknown[];
}

export class EventBatch {
  readonly streams = new Map<string, CachedStream>();
  readonly rows: PendingRow[] = [];
  readonly outbox: AnyEvent[] = [];
  readonly upserts = new Map<RowUpsert<unknown>, Map<string, unknown>>();
  /** Work of the handlers themselves that waits for the end of the batch, once per key. */
  readonly beforeWrite = new Map<string, () => Promise<void>>();
  readonly local = new Map<string, unknown>();
}

const batches = new WeakMap<EntityManager, EventBatch>();

export function batchOf(tx: EntityManager): EventBatch | undefined {
  return batches.get(tx);
}

/**
 * Runs `work` as one batch in `tx` and writes what it decided before returning
 * (the caller commits). A version conflict with another transaction surfaces as a
 * ConcurrencyError from the multi-row insert, and `inTransaction` retries it all.
 */
export async function inEventBatch<T>(tx: EntityManager, work: () => Promise<T>, flush: (tx: EntityManager, batch: EventBatch) => Promise<void>): Promise<T> {
  const batch = new EventBatch();
  batches.set(tx, batch);
  try {
    const result = await work();
    await flush(tx, batch);
    return result;
  } finally {
    batches.delete(tx);
  }
}

/**
 * Writes a read-model row that is a function of its aggregate's latest state: in a
 * batch only the last row per key is kept and each read model is written with one
 * multi-row upsert at the end; outside a batch the row is written now.
 */
export async function upsertRow<Row>(tx: EntityManager, target: RowUpsert<Row>, key: string, row: Row): Promise<void> {
  const batch = batches.get(tx);
  if (!batch) return target.write(tx, [row]);
  const byTarget = target as RowUpsert<unknown>;
  let rows = batch.upserts.get(byTarget);
  if (!rows) {
    rows = new Map<string, unknown>();
    batch.upserts.set(byTarget, rows);
  }
  const waiting = rows.get(key);
  if (waiting !== undefined && target.isOlder?.(row, waiting as Row)) return;
  rows.delete(key);
  rows.set(key, row);
}

/** Writes now the row waiting under `key`, before a statement that builds on the row as stored. */
export async function settleRow<Row>(tx: EntityManager, target: RowUpsert<Row>, key: string): Promise<void> {
  const rows = batches.get(tx)?.upserts.get(target);
  if (!rows?.has(key)) return;
  const row = rows.get(key) as Row;
  rows.delete(key);
  await target.write(tx, [row]);
}

/**
 * The batch's read-model rows, one upsert per read model: as statements to send
 * with the batch's other writes where the read model can (`statement`), the rest
 * written now.
 */
export async function readModelWrites(tx: EntityManager, batch: EventBatch, first: number): Promise<WriteStatement[]> {
  const statements: WriteStatement[] = [];
  for (const [target, rows] of batch.upserts) {
    if (rows.size === 0) continue;
    if (!target.statement) {
      await target.write(tx, [...rows.values()]);
      continue;
    }
    const statement = target.statement([...rows.values()], first);
    first += statement.parameters.length;
    statements.push(statement);
  }
  return statements;
}

/**
 * Data-modifying statements as one: each becomes a CTE of the last, which ends
 * with `tail` (a SELECT, e.g. a notification). PostgreSQL runs every one of them,
 * in one snapshot; their parameters must already be numbered one after another.
 */
export function combineWrites(statements: readonly WriteStatement[], tail: WriteStatement = { sql: 'SELECT 1', parameters: [] }): WriteStatement {
  if (statements.length === 1 && tail.parameters.length === 0 && tail.sql === 'SELECT 1') return statements[0]!;
  return {
    sql: `WITH ${statements.map((s, i) => `w${i} AS (${s.sql})`).join(',\n')}\n${tail.sql}`,
    parameters: [...statements.flatMap((s) => s.parameters), ...tail.parameters],
  };
}

/**
 * State a handler keeps for the rest of the batch (e.g. what it decided so far for
 * a hot aggregate); undefined outside a batch.
 */
export function batchLocal<T>(tx: EntityManager, key: string, init: () => T): T | undefined {
  const batch = batches.get(tx);
  if (!batch) return undefined;
  if (!batch.local.has(key)) batch.local.set(key, init());
  return batch.local.get(key) as T;
}

/**
 * Runs `work` once at the end of the batch, before its rows are written (so what
 * it appends is written with them); a second call with the same key changes
 * nothing. Outside a batch it runs now.
 */
export async function atBatchEnd(tx: EntityManager, key: string, work: () => Promise<void>): Promise<void> {
  const batch = batches.get(tx);
  if (!batch) return work();
  if (!batch.beforeWrite.has(key)) batch.beforeWrite.set(key, work);
}

/** A column of rows written through `recordset`: its SQL type. */
export interface RecordsetColumn {
  name: string;
  type: 'text' | 'jsonb' | 'bigint' | 'integer' | 'timestamptz' | 'uuid';
}

/**
 * `jsonb_to_recordset($n::jsonb) AS r(<column> <type>, …)`: many rows sent as one
 * parameter, a JSON array of objects keyed by column name (values as JSON: objects
 * for jsonb columns, ISO strings for times). It is written by one JSON.stringify and
 * read by PostgreSQL as typed columns. An array per column (`unnest`) cost an array
 * literal per column with every element escaped twice, four times the Node CPU,
 * and a fifth more of PostgreSQL's for a batch of events.
 */
export const recordset = (columns: readonly RecordsetColumn[], parameter: number): string =>
  `jsonb_to_recordset($${parameter}::jsonb) AS r(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})`;

/** `INSERT INTO <table> (<columns>) SELECT <columns> FROM` the `recordset` of parameter `$parameter`. */
export function recordsetInsert(table: string, columns: readonly RecordsetColumn[], parameter: number): string {
  const names = columns.map((c) => c.name).join(', ');
  return `INSERT INTO ${table} (${names}) SELECT ${names} FROM ${recordset(columns, parameter)}`;
}

/** A column of a read model written by `recordsetUpsert`: its SQL type and how a row gives its value. */
export interface UpsertColumn<Row> extends RecordsetColumn {
  type: Exclude<RecordsetColumn['type'], 'uuid'>;
  value: (row: Row) => string | number | Date | object | null;
}

const SQL_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * A `RowUpsert` as one statement however many rows: `INSERT … SELECT FROM
 * jsonb_to_recordset(…) ON CONFLICT (key) DO UPDATE`, the rows as one parameter
 * (`recordset`). (An ORM's multi-row upsert makes a parameter per value, and its
 * cost grows faster than the batch.)
 *
 * `unlessOlder` names a column (a time or a version) that only grows: a stored row
 * whose value there is greater than the new row's is left as it is, so a message
 * delivered late, after a newer one of the same key, cannot roll the row back.
 */
export function recordsetUpsert<Row>(
  table: string,
  key: string,
  columns: readonly UpsertColumn<Row>[],
  options: { unlessOlder?: string } = {},
): CombinableUpsert<Row> {
  const { unlessOlder } = options;
  for (const name of [table, key, ...columns.map((c) => c.name)]) if (!SQL_NAME.test(name)) throw new Error(`recordsetUpsert: "${name}" is not a plain SQL name`);
  const names = columns.map((c) => c.name);
  const ordered = columns.find((c) => c.name === unlessOlder);
  if (unlessOlder !== undefined && (unlessOlder === key || !ordered || !['timestamptz', 'bigint', 'integer'].includes(ordered.type)))
    throw new Error(`recordsetUpsert: unlessOlder "${unlessOlder}" must be a timestamptz, bigint or integer column other than the key`);
  const updates = names.filter((n) => n !== key).map((n) => `${n} = excluded.${n}`);
  const condition = unlessOlder === undefined ? '' : ` WHERE ${table}.${unlessOlder} <= excluded.${unlessOlder}`;
  const sqlFrom = (first: number) => `${recordsetInsert(table, columns, first)}
     ON CONFLICT (${key}) DO ${updates.length ? `UPDATE SET ${updates.join(', ')}${condition}` : 'NOTHING'}`;
  const sql = sqlFrom(1);
  // Dates become ISO strings in JSON.stringify; objects of jsonb columns stay objects.
  const parameterOf = (rows: Row[]) => JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((c) => [c.name, c.value(row)]))));
  return {
    table,
    ...(ordered && { isOlder: (row: Row, than: Row) => Number(ordered.value(row)) < Number(ordered.value(than)) }),
    write: async (tx, rows) => {
      await tx.query(sql, [parameterOf(rows)]);
    },
    statement: (rows, first) => ({ sql: sqlFrom(first), parameters: [parameterOf(rows)] }),
  };
}
