export type DomainErrorCode =
  | 'VALIDATION'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'ILLEGAL_STATE'
  | 'CONCURRENCY'
  | 'IDEMPOTENCY_MISMATCH';

/**
 * A refusal by the domain. It carries its code (the HTTP edge maps codes to
 * statuses in one place) and its retry class from where it is made: a domain
 * refusal is never retriable — retrying the same command against the same state
 * gives the same answer.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly retriable = false;
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
