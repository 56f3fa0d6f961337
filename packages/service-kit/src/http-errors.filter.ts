import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { DomainError, type DomainErrorCode } from '@orderflow/eventstore';

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
  json(body: unknown): void;
}

/** The one place where errors become HTTP statuses: domain codes, Nest's own exceptions, the rest as 500. */
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
    if (exception instanceof HttpException) {
      // Nest's own errors (malformed JSON, unknown route, …) in the same shape as ours.
      const status = exception.getStatus();
      const body = exception.getResponse();
      const detail = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = typeof detail === 'string' ? detail : Array.isArray(detail) ? detail.join('; ') : exception.message;
      if (status < 500) {
        response.status(status).json({ error: HttpStatus[status] ?? 'ERROR', message });
        return;
      }
    }
    this.log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    response.status(500).json({ error: 'INTERNAL', message: 'internal server error' });
  }
}
