import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Topics } from '@orderflow/contracts';
import { main } from '@orderflow/service-kit';
import { Product } from './catalog/product.entity';
import { OrdersConfigSchema } from './config';
import { IdempotencyKey, OrderSummary } from './order/order.entities';
import { orderStream } from './order/order.decider';
import { OrdersModule } from './orders.module';
import { OrdersDeadlines1763700000200 } from './order-deadlines.migration';
import { OrdersReadModels1763700000100 } from './schema.migration';

main({
  name: 'orders',
  configSchema: OrdersConfigSchema,
  migrations: [OrdersReadModels1763700000100, OrdersDeadlines1763700000200],
  entities: [OrderSummary, IdempotencyKey, Product],
  consumes: [Topics.payments, Topics.inventory, Topics.products, Topics.shipping],
  // The saga reads the order's whole stream; catalog events read none.
  streamsOf: (event) => (event.type === 'ProductCatalogued' || event.type === 'StockLevelChanged' ? [] : [orderStream(event.subject)]),
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
});
