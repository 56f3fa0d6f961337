import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { CONFIG, EventContext, EventHandlers, OnEvents } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { ShippingConfigSchema } from '../config';
import { reactToOrderEvent, type ShippingPolicy } from './shipment.handler';

/** The clock is read here, at the edge: handlers and deciders take the time as an argument, so they stay deterministic. */
@EventHandlers()
export class ShipmentConsumer {
  private readonly policy: ShippingPolicy;

  constructor(@Inject(CONFIG) config: Static<typeof ShippingConfigSchema>) {
    this.policy = { carrier: config.SHIPPING_CARRIER, pickupLeadHours: config.SHIPPING_PICKUP_LEAD_HOURS };
  }

  @OnEvents('OrderPlaced', 'OrderConfirmed', 'OrderCancelled')
  async orderEvent(
    @Payload() event: EventEnvelope<'OrderPlaced'> | EventEnvelope<'OrderConfirmed'> | EventEnvelope<'OrderCancelled'>,
    @Ctx() ctx: EventContext,
  ): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.policy, new Date());
  }
}
