import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * A request refused because the service is past its load bound (load shedding):
 * 503 with Retry-After. Expected under overload, so it is not logged one by one.
 */
export class OverloadedException extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super({ error: 'OVERLOADED', message }, HttpStatus.SERVICE_UNAVAILABLE);
  }
}
