import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { EventContext, EventHandlers, OnEvent } from '@orderflow/service-kit';
import { recordOutcome } from '../order/record-outcome.handler';
import type { OrderOutcomeEvent } from '../order/order.decider';

type Outcome = EventEnvelope & OrderOutcomeEvent;

/** Payment, inventory and shipping results, recorded on the order; the decider turns them into its next state. */
@EventHandlers()
export class OrderSagaConsumer {
  @OnEvent('PaymentAuthorized')
  paymentAuthorized(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('PaymentDeclined')
  paymentDeclined(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('PaymentRefunded')
  paymentRefunded(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('StockReserved')
  stockReserved(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('StockUnavailable')
  stockUnavailable(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('StockReleased')
  stockReleased(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('StockCommitted')
  stockCommitted(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('ShipmentPrepared')
  shipmentPrepared(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('PickupScheduled')
  pickupScheduled(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }

  @OnEvent('ShipmentCancelled')
  shipmentCancelled(@Payload() e: Outcome, @Ctx() ctx: EventContext) { return recordOutcome(ctx.tx, e); }
}
