import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { CONFIG, EventContext, EventHandlers, OnEvent } from '@orderflow/service-kit';
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

  @OnEvent('OrderPlaced')
  async orderPlaced(@Payload() event: EventEnvelope<'OrderPlaced'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.policy, new Date());
  }

  @OnEvent('OrderConfirmed')
  async orderConfirmed(@Payload() event: EventEnvelope<'OrderConfirmed'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.policy, new Date());
  }

  @OnEvent('OrderCancelled')
  async orderCancelled(@Payload() event: EventEnvelope<'OrderCancelled'>, @Ctx() ctx: EventContext): Promise<void> {
    await reactToOrderEvent(ctx.tx, event, this.policy, new Date());
  }
}
