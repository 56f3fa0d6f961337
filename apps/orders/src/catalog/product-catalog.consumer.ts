import { Ctx, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@orderflow/contracts';
import { EventContext, EventHandlers, OnEvent } from '@orderflow/service-kit';
import { projectProductEvent } from './product.projection';

@EventHandlers()
export class ProductCatalogConsumer {
  @OnEvent('ProductCatalogued')
  catalogued(@Payload() e: EventEnvelope<'ProductCatalogued'>, @Ctx() ctx: EventContext) { return projectProductEvent(ctx.tx, e); }

  @OnEvent('StockLevelChanged')
  levelChanged(@Payload() e: EventEnvelope<'StockLevelChanged'>, @Ctx() ctx: EventContext) { return projectProductEvent(ctx.tx, e); }
}
