import { ForbiddenException, Inject, Injectable, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { InvalidTokenError, OPERATOR_ROLE, type TokenClaims, type TokenVerifier } from '@orderflow/auth';
import { DomainError } from '@orderflow/domain';
import { TOKEN_VERIFIER } from './token-verifier';

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  claims?: TokenClaims;
}

/** `Authorization: Bearer <JWT>`; the token's `sub` is the customer. */
@Injectable()
export class CustomerAuthGuard implements CanActivate {
  constructor(@Inject(TOKEN_VERIFIER) private readonly verify: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header) : null;
    if (!match) throw new DomainError('UNAUTHORIZED', 'missing bearer token: send Authorization: Bearer <token>');
    try {
      request.claims = await this.verify(match[1]!);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new DomainError('UNAUTHORIZED', error.message);
      throw error;
    }
    return true;
  }
}

/** After CustomerAuthGuard: only tokens with the operator role (403 for any other valid token). */
@Injectable()
export class OperatorGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const claims = context.switchToHttp().getRequest<AuthenticatedRequest>().claims;
    if (!claims?.roles.includes(OPERATOR_ROLE)) throw new ForbiddenException(`this view needs a token with the ${OPERATOR_ROLE} role`);
    return true;
  }
}

export const CustomerId = createParamDecorator(
  (_: unknown, context: ExecutionContext): string => context.switchToHttp().getRequest<AuthenticatedRequest>().claims!.sub,
);
