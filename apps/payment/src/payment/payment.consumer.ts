import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { CONFIG, EventContext, EventHandlers, OnEvent } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { PaymentConfigSchema } from '../config';
import { reactToOrderEvent } from './payment.handler';

@EventHandlers()
export class PaymentConsumer {
  private readonly limit: number;

  constructor(@Inject(CONFIG) config: Static<typeof PaymentConfigSchema>) {
    this.limit = config.PAYMENT_LIMIT_MINOR;
  }

  @OnEvent('OrderPlaced')
  async orderPlaced(@Payload() event: EventEnvelope<'OrderPlaced'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.limit);
  }

  @OnEvent('OrderCancelled')
  async orderCancelled(@Payload() event: EventEnvelope<'OrderCancelled'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.limit);
  }
}
