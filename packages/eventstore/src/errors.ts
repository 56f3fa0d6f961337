/** Raised when another writer appended to the stream first: reload and decide again. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  readonly retriable = true;
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} is no longer at version ${expectedVersion}`);
  }
}

/**
 * The ConcurrencyError a clash on the events' (stream, version) key means, naming
 * the stream from the driver's detail ("Key (stream_id, stream_version)=(order-…, 3)
 * already exists."); undefined for any other error.
 */
export function versionClashOf(error: unknown): ConcurrencyError | undefined {
  if (error instanceof ConcurrencyError) return error;
  const e = error as { driverError?: { constraint?: string; detail?: string }; constraint?: string; detail?: string } | null;
  if ((e?.driverError?.constraint ?? e?.constraint) !== 'events_stream_version_unique') return undefined;
  const clash = /=\((.*), (\d+)\)/.exec(e?.driverError?.detail ?? e?.detail ?? '');
  return clash ? new ConcurrencyError(clash[1]!, Number(clash[2]) - 1) : new ConcurrencyError('(unknown stream)', -1);
}

/**
 * A database condition that goes away by itself (a timeout, a lost race, a full
 * disk being cleaned up): the same work can succeed later. Made at the database
 * boundary (`inTransaction`, the relay) from the driver's or pool's error, which
 * stays available as `cause`.
 */
export class TransientDatabaseError extends Error {
  override readonly name: string = 'TransientDatabaseError';
  readonly retriable = true;
  constructor(
    /** The SQLSTATE (`57014`), the socket error (`ECONNRESET`) or ours for the pool (`POOL_TIMEOUT`). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The database cannot be reached or is not taking work: restarting, failed over, out of connections. */
export class DatabaseUnavailableError extends TransientDatabaseError {
  override readonly name: string = 'DatabaseUnavailableError';
}

type Condition = 'unavailable' | 'transient';

const SQLSTATES: Record<string, Condition> = {
  '40001': 'transient', // serialization_failure
  '40P01': 'transient', // deadlock_detected
  '55P03': 'transient', // lock_not_available (lock_timeout)
  '57014': 'transient', // query_canceled (statement_timeout)
  '25P03': 'transient', // idle_in_transaction_session_timeout
  '53000': 'transient', // insufficient_resources
  '53100': 'transient', // disk_full
  '53200': 'transient', // out_of_memory
  '53300': 'unavailable', // too_many_connections
  '25006': 'unavailable', // read_only_sql_transaction: a standby after failover
  '57P01': 'unavailable', // admin_shutdown
  '57P02': 'unavailable', // crash_shutdown
  '57P03': 'unavailable', // cannot_connect_now: starting up, shutting down, in recovery
  '57P05': 'unavailable', // idle_session_timeout
  '58030': 'transient', // io_error
};

const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** pg and pg-pool give these no code, only a message. */
const MESSAGES: [RegExp, string][] = [
  [/timeout exceeded when trying to connect/i, 'POOL_TIMEOUT'],
  [/Connection terminated/i, 'CONNECTION_TERMINATED'],
  [/Client has encountered a connection error and is not queryable/i, 'CONNECTION_ERROR'],
  [/Client was closed and is not queryable/i, 'CONNECTION_CLOSED'],
  [/the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/i, '57P03'],
  [/Query read timeout/i, 'QUERY_TIMEOUT'],
];

interface DriverErrorShape {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

function classify(error: unknown, depth = 0): { condition: Condition; code: string } | undefined {
  if (typeof error !== 'object' || error === null || depth > 3) return undefined;
  const e = error as DriverErrorShape;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code) {
    const known = SQLSTATES[code];
    if (known) return { condition: known, code };
    if (code.startsWith('08')) return { condition: 'unavailable', code }; // connection_exception class
    if (SOCKET_ERRORS.has(code)) return { condition: 'unavailable', code };
  }
  const message = typeof e.message === 'string' ? e.message : '';
  for (const [pattern, messageCode] of MESSAGES) {
    if (pattern.test(message)) return { condition: messageCode === 'QUERY_TIMEOUT' ? 'transient' : 'unavailable', code: messageCode };
  }
  // TypeORM's QueryFailedError keeps pg's error as driverError.
  return classify(e.driverError, depth + 1) ?? classify(e.cause, depth + 1);
}

/**
 * Rethrown at the database boundary: a transient driver or pool failure becomes
 * a coded TransientDatabaseError / DatabaseUnavailableError; anything else (a
 * domain error, a constraint violation, a ConcurrencyError) passes unchanged.
 */
export function toDatabaseError(error: unknown): unknown {
  if (error instanceof TransientDatabaseError || error instanceof ConcurrencyError) return error;
  // An error that already says it is not retriable (a domain refusal) keeps its word.
  if ((error as { retriable?: unknown } | null)?.retriable === false) return error;
  const found = classify(error);
  if (!found) return error;
  const message = `database ${found.condition === 'unavailable' ? 'unavailable' : 'transient failure'}: ${(error as Error).message} (${found.code})`;
  return found.condition === 'unavailable'
    ? new DatabaseUnavailableError(found.code, message, { cause: error })
    : new TransientDatabaseError(found.code, message, { cause: error });
}

/**
 * True for failures that go away by themselves. Errors from `inTransaction` are
 * already coded and marked `retriable`; this also recognises a raw driver error
 * from code that queried the database without passing that boundary.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  return toDatabaseError(error) instanceof TransientDatabaseError || error instanceof ConcurrencyError;
}
