import { Body, Controller, Inject, NotFoundException, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { OPERATOR_ROLE, signToken } from '@orderflow/auth';
import { Id } from '@orderflow/contracts';
import { CONFIG } from '@orderflow/service-kit';
import { Type, type Static } from '@sinclair/typebox';
import type { OrdersConfigSchema } from '../config';
import { SchemaPipe } from '../http/schema.pipe';

const DevTokenBody = Type.Object(
  {
    customerId: Id,
    operator: Type.Optional(Type.Boolean({ description: 'adds the operator role' })),
  },
  { additionalProperties: false },
);
type DevTokenBody = Static<typeof DevTokenBody>;

const DEV_TOKEN_TTL_SECONDS = 8 * 3600;

/**
 * Development sign-in for the storefront: exists only with AUTH_DEV_TOKENS=true
 * (`npm run demo`, compose). Otherwise it answers exactly like a route that does not exist.
 */
@ApiExcludeController()
@Controller('auth')
export class DevTokenController {
  constructor(@Inject(CONFIG) private readonly config: Static<typeof OrdersConfigSchema>) {}

  @Post('dev-token')
  async issue(@Body(new SchemaPipe(DevTokenBody)) body: DevTokenBody): Promise<{ token: string; expiresIn: number }> {
    if (!this.config.AUTH_DEV_TOKENS) throw new NotFoundException('Cannot POST /auth/dev-token');
    const token = await signToken(this.config.AUTH_JWT_SECRET, {
      sub: body.customerId,
      roles: body.operator ? [OPERATOR_ROLE] : [],
      ttlSeconds: DEV_TOKEN_TTL_SECONDS,
    });
    return { token, expiresIn: DEV_TOKEN_TTL_SECONDS };
  }
}
