import { Body, Controller, Get, HttpCode, Inject, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeController } from '@nestjs/swagger';
import { ALL_TOPICS } from '@orderflow/contracts';
import { Type, type Static } from '@sinclair/typebox';
import { CustomerAuthGuard, OperatorGuard } from '../auth/auth.guard';
import { SchemaPipe } from '../http/schema.pipe';
import { Operations, type DeadLetterView, type ServiceHealth } from './operations';

const Topic = Type.Union(ALL_TOPICS.map((t) => Type.Literal(t)));
const Filter = {
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  error: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
};
const LettersQuery = Type.Object({ topic: Type.Optional(Topic), ...Filter }, { additionalProperties: false });
const RedriveBody = Type.Object({ topic: Topic, ...Filter, dryRun: Type.Boolean() }, { additionalProperties: false });

/** The operator view's data (/ops): only for tokens with the operator role; 403 for any other valid token. */
@ApiExcludeController()
@ApiBearerAuth()
@UseGuards(CustomerAuthGuard, OperatorGuard)
@Controller('ops/api')
export class OpsController {
  constructor(@Inject(Operations) private readonly operations: Operations) {}

  @Get('services')
  services(): Promise<ServiceHealth[]> {
    return this.operations.services();
  }

  @Get('dead-letters')
  deadLetters(@Query(new SchemaPipe(LettersQuery)) query: Static<typeof LettersQuery>): Promise<DeadLetterView[]> {
    return this.operations.deadLetters(query);
  }

  @Post('dead-letters/redrive')
  @HttpCode(200)
  redrive(@Body(new SchemaPipe(RedriveBody)) body: Static<typeof RedriveBody>) {
    return this.operations.redrive(body);
  }
}
