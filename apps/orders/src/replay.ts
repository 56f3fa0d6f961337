import { replayCommand } from '@orderflow/service-kit';
import { Product } from './catalog/product.entity';
import { OrdersConfigSchema } from './config';
import { orderDecider, type OrderEvent } from './order/order.decider';
import { IdempotencyKey, OrderSummary } from './order/order.entities';
import { projectSummary } from './order/order.handlers';
import { OrdersReadModels1763700000100 } from './schema.migration';

// The product catalog is a projection of inventory's events, not of this log: to
// rebuild it, reset the `orders` consumer group on inventory.products instead.
replayCommand({
  name: 'orders',
  configSchema: OrdersConfigSchema,
  migrations: [OrdersReadModels1763700000100],
  entities: [OrderSummary, IdempotencyKey, Product],
  projections: [
    {
      table: 'order_summaries',
      streamPrefix: 'order-',
      project: (tx, _stream, events) =>
        projectSummary(tx, (events as OrderEvent[]).reduce(orderDecider.evolve, orderDecider.initialState()), new Date(events.at(-1)!.time)),
    },
  ],
});
