import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { EventContext, EventHandlers, OnEvent } from '@orderflow/service-kit';
import { reactToOrderEvent } from './stock.handler';

/** The clock is read here, at the edge: handlers and deciders take the time as an argument, so they stay deterministic. */
@EventHandlers()
export class StockConsumer {
  @OnEvent('OrderPlaced')
  async orderPlaced(@Payload() event: EventEnvelope<'OrderPlaced'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, new Date());
  }

  @OnEvent('OrderCancelled')
  async orderCancelled(@Payload() event: EventEnvelope<'OrderCancelled'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, new Date());
  }

  @OnEvent('OrderCompleted')
  async orderCompleted(@Payload() event: EventEnvelope<'OrderCompleted'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, new Date());
  }
}
