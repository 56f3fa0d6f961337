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

const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);
const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for failures that go away by themselves: the database restarting, a lost connection, a lost race. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof ConcurrencyError) return true;
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown } | null;
  const code = e?.driverError?.code ?? e?.code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08') || TRANSIENT_NETWORK.has(code))) {
    return true;
  }
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

export type DomainErrorCode =
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'ILLEGAL_STATE'
  | 'CONCURRENCY'
  | 'IDEMPOTENCY_MISMATCH';

/** A refusal by the domain; the HTTP edge maps its code to a status in one place. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
