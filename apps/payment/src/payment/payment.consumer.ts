import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { CONFIG, EventContext, EventHandlers, OnEvents } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { PaymentConfigSchema } from '../config';
import { reactToOrderEvent } from './payment.handler';

/** The clock is read here, at the edge: handlers and deciders take the time as an argument, so they stay deterministic. */
@EventHandlers()
export class PaymentConsumer {
  private readonly limit: number;

  constructor(@Inject(CONFIG) config: Static<typeof PaymentConfigSchema>) {
    this.limit = config.PAYMENT_LIMIT_MINOR;
  }

  @OnEvents('OrderPlaced', 'OrderCancelled')
  async orderEvent(@Payload() event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderCancelled'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.limit, new Date());
  }
}
