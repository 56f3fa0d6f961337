import { Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DomainError } from '@orderflow/domain';
import { CONFIG } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { OrdersConfigSchema } from '../config';
import { InvalidTokenError, verifyToken } from './jwt';

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  customerId?: string;
}

/** `Authorization: Bearer <JWT>`; the token's `sub` is the customer. */
@Injectable()
export class CustomerAuthGuard implements CanActivate {
  private readonly secret: string;

  constructor(@Inject(CONFIG) config: Static<typeof OrdersConfigSchema>) {
    this.secret = config.AUTH_JWT_SECRET;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header) : null;
    if (!match) throw new DomainError('UNAUTHORIZED', 'missing bearer token: send Authorization: Bearer <token>');
    try {
      request.customerId = verifyToken(match[1]!, this.secret).sub;
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new DomainError('UNAUTHORIZED', error.message);
      throw error;
    }
    return true;
  }
}

export const CustomerId = createParamDecorator(
  (_: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<AuthenticatedRequest>().customerId!,
);
