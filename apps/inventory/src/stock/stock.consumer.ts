import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { EventContext, EventHandlers, OnEvent } from '@orderflow/service-kit';
import { reactToOrderEvent } from './stock.handler';

@EventHandlers()
export class StockConsumer {
  @OnEvent('OrderPlaced')
  async orderPlaced(@Payload() event: EventEnvelope<'OrderPlaced'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event);
  }

  @OnEvent('OrderCancelled')
  async orderCancelled(@Payload() event: EventEnvelope<'OrderCancelled'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event);
  }

  @OnEvent('OrderCompleted')
  async orderCompleted(@Payload() event: EventEnvelope<'OrderCompleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event);
  }
}
