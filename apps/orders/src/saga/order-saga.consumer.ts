import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { EventContext, EventHandlers, OnEvents } from '@orderflow/service-kit';
import { recordOutcome } from '../order/record-outcome.handler';
import { OUTCOME_TYPES, type OrderOutcomeEvent } from '../order/order.decider';

/** Payment, inventory and shipping results, recorded on the order; the decider turns them into its next state. */
@EventHandlers()
export class OrderSagaConsumer {
  @OnEvents(...OUTCOME_TYPES)
  outcome(@Payload() event: EventEnvelope & OrderOutcomeEvent, @Ctx() ctx: EventContext) {
    return recordOutcome(ctx.tx, event);
  }
}
