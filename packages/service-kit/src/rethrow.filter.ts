import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Nest's default RPC filter replaces every error with "Internal server error";
 * the event transport needs the original to tell a transient failure from a
 * poison event.
 */
@Catch()
export class RethrowRpcErrorsFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
