import { Topics } from '@orderflow/contracts';
import { replayCommand } from '@orderflow/service-kit';
import { rebuildCatalog } from './catalog/catalog-rebuild';
import { Product } from './catalog/product.entity';
import { OrdersConfigSchema } from './config';
import { orderDecider, type OrderEvent } from './order/order.decider';
import { IdempotencyKey, OrderSummary } from './order/order.entities';
import { projectSummary } from './order/order-summary.projection';
import { OrdersDeadlines1763700000200 } from './order-deadlines.migration';
import { OrdersReadModels1763700000100 } from './schema.migration';

// Order summaries come from this service's own log; the product catalog is a
// projection of inventory's compacted `inventory.products`, read again from its start.
replayCommand({
  name: 'orders',
  configSchema: OrdersConfigSchema,
  migrations: [OrdersReadModels1763700000100, OrdersDeadlines1763700000200],
  entities: [OrderSummary, IdempotencyKey, Product],
  projections: [
    {
      table: 'order_summaries',
      streamPrefix: 'order-',
      project: (tx, _stream, events) =>
        projectSummary(
          tx,
          (events as OrderEvent[]).reduce(orderDecider.evolve, orderDecider.initialState()),
          new Date(events.at(-1)!.time),
        ),
    },
  ],
  topicRebuilds: [
    {
      table: 'products',
      rebuild: async (dataSource, kafka, topicPrefix) => {
        const topic = `${topicPrefix}${Topics.products}`;
        const { messages, products, skipped } = await rebuildCatalog(dataSource, kafka, topic);
        return `(${products} product(s)) from ${messages} message(s) on ${topic}${skipped ? `, ${skipped} skipped as not catalog events or invalid` : ''}`;
      },
    },
  ],
});
