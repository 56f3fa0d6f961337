import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TOPIC_PARTITIONS, Topics } from '@orderflow/contracts';
import type { ServiceDescription } from '@orderflow/service-kit';
import { checkAuthConfig } from './auth/token-verifier';
import { KafkaTransport } from '@orderflow/messaging';
import { rebuildCatalog } from './catalog/catalog-rebuild';
import { Product } from './catalog/product.entity';
import { OrdersConfigSchema } from './config';
import { isOutcomeType, orderDecider, orderStream, type OrderEvent } from './order/order.decider';
import { IdempotencyKey, OrderSummary } from './order/order.entities';
import { projectSummary } from './order/order-summary.projection';
import { OrdersModule } from './orders.module';
import { OrdersDeadlines1763700000200 } from './order-deadlines.migration';
import { OrdersReadModels1763700000100 } from './schema.migration';

export const ordersService: ServiceDescription<typeof OrdersConfigSchema> = {
  name: 'orders',
  configSchema: OrdersConfigSchema,
  checkConfig: checkAuthConfig,
  migrations: [OrdersReadModels1763700000100, OrdersDeadlines1763700000200],
  entities: [OrderSummary, IdempotencyKey, Product],
  produces: [Topics.orders],
  consumes: [Topics.payments, Topics.inventory, Topics.products, Topics.shipping],
  // The saga reads the order's whole stream; catalog events read none.
  streamsOf: (event) => (event.type === 'ProductCatalogued' || event.type === 'StockLevelChanged' ? [] : [orderStream(event.subject)]),
  // The saga records every outcome in the order's stream with its own id: that record is its inbox.
  recordedIn: (event) => (isOutcomeType(event.type) ? orderStream((event.data as { orderId: string }).orderId) : undefined),
  // Everything it writes is keyed like what it consumes (an order's stream and summary by order id, a
  // product row by sku), so a lane per partition number never meets another's: the saga, the busiest
  // consumer of the platform, waits on PostgreSQL three batches at a time instead of one.
  consumerLanes: TOPIC_PARTITIONS,
  // Order summaries come from this service's own log; the product catalog is a
  // projection of inventory's compacted `inventory.products`, read again from its start.
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
      // Only a log keeps every product's latest state for a reader that comes later;
      // the queue-based brokers delivered each message once, to the live consumer.
      rebuildableOn: ['kafka'],
      rebuild: async (dataSource, transport, topicPrefix) => {
        if (!(transport instanceof KafkaTransport)) throw new Error(`the catalog is rebuilt from the compacted ${Topics.products} topic, which ${transport.kind} does not keep`);
        const topic = `${topicPrefix}${Topics.products}`;
        const { messages, products, skipped } = await rebuildCatalog(dataSource, transport.kafka, topic);
        return `(${products} product(s)) from ${messages} message(s) on ${topic}${skipped ? `, ${skipped} skipped as not catalog events or invalid` : ''}`;
      },
    },
  ],
  feature: OrdersModule,
  configureHttp: (app) => {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Orderflow storefront API')
        .setDescription('Place and follow orders. Every route needs Authorization: Bearer <JWT> (HS256, sub = customer id).')
        .setVersion('1.0')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
  },
};
