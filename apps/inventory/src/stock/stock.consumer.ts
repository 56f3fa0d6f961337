import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { EventContext, EventHandlers, OnEvents } from '@orderflow/service-kit';
import { reactToOrderEvent } from './stock.handler';

/** The clock is read here, at the edge: handlers and deciders take the time as an argument, so they stay deterministic. */
@EventHandlers()
export class StockConsumer {
  @OnEvents('OrderPlaced', 'OrderCancelled', 'OrderCompleted')
  async orderEvent(
    @Payload() event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderCancelled'> | EventEnvelope<'OrderCompleted'>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, new Date());
  }
}
