import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from '@orderflow/domain';
import { ConcurrencyError, TransientDatabaseError, toDatabaseError } from '@orderflow/eventstore';
import { OverloadedException } from './overloaded.exception';

const STATUS: Record<DomainErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  ILLEGAL_STATE: 409,
  CONCURRENCY: 409,
  IDEMPOTENCY_MISMATCH: 422,
};

interface JsonResponse {
  status(code: number): JsonResponse;
  setHeader(name: string, value: string): void;
  json(body: unknown): void;
}

/** Seconds a client is asked to wait before retrying a request refused while the database is unavailable. */
const RETRY_AFTER_SECONDS = 2;

/**
 * The one place where errors become HTTP statuses: domain codes, a lost version
 * race (409), the database unavailable or the service shedding load (503 with
 * Retry-After), Nest's own exceptions, the rest as 500.
 */
@Catch()
export class HttpErrorsFilter implements ExceptionFilter {
  private readonly log = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (exception instanceof DomainError) {
      response.status(STATUS[exception.code]).json({
        error: exception.code,
        message: exception.message,
        ...(exception.details ? { details: exception.details } : {}),
      });
      return;
    }
    if (exception instanceof ConcurrencyError) {
      // Writers kept racing on this stream past inTransaction's retries: the request
      // changed nothing, and the client may retry it (with its Idempotency-Key).
      this.log.warn(`409 after retries: ${exception.message}`);
      response.status(409).json({ error: 'CONCURRENCY', message: 'the resource was changed concurrently; retry the request' });
      return;
    }
    if (toDatabaseError(exception) instanceof TransientDatabaseError) {
      // PostgreSQL restarting, the pool exhausted, a statement timeout: the request
      // changed nothing (its transaction did not commit) and is worth retrying.
      this.log.warn(`503 database unavailable: ${(exception as Error).message}`);
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      response.status(503).json({ error: 'UNAVAILABLE', message: 'the database is unavailable; retry shortly' });
      return;
    }
    if (exception instanceof OverloadedException) {
      response.setHeader('Retry-After', String(exception.retryAfterSeconds));
      response.status(503).json(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      if (status >= 500) {
        // Thrown on purpose (readiness answers 503 naming what is down): its status and
        // body are the answer. Nest builds the body from what was thrown; no stack in it.
        this.log.warn(`${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
        response.status(status).json(typeof body === 'string' ? { error: HttpStatus[status] ?? 'ERROR', message: body } : body);
        return;
      }
      // Nest's own errors (malformed JSON, unknown route, …) in the same shape as ours.
      const detail = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = typeof detail === 'string' ? detail : Array.isArray(detail) ? detail.join('; ') : exception.message;
      response.status(status).json({ error: HttpStatus[status] ?? 'ERROR', message });
      return;
    }
    this.log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    response.status(500).json({ error: 'INTERNAL', message: 'internal server error' });
  }
}
