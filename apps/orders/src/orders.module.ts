import { Module } from '@nestjs/common';
import { CONFIG } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import type { OrdersConfigSchema } from './config';
import { CustomerAuthGuard } from './auth/auth.guard';
import { ProductCatalogConsumer } from './catalog/product-catalog.consumer';
import { ProductsController } from './catalog/products.controller';
import { OrdersController } from './order/orders.controller';
import { OrderSagaConsumer } from './saga/order-saga.consumer';
import { OrderTimeoutJob } from './saga/order-timeout.job';
import { CatalogCache } from './catalog/catalog-cache';
import { PlaceOrderBatcher } from './order/place-order.batcher';
import { OrderAdmission } from './order/order-admission';
import { OrderMetrics } from './order/order-metrics';

@Module({
  controllers: [ProductsController, OrdersController, OrderSagaConsumer, ProductCatalogConsumer],
  providers: [
    CustomerAuthGuard,
    OrderTimeoutJob,
    CatalogCache,
    PlaceOrderBatcher,
    OrderMetrics,
    {
      provide: OrderAdmission,
      inject: [DataSource, CONFIG],
      useFactory: (dataSource: DataSource, config: Static<typeof OrdersConfigSchema>) =>
        new OrderAdmission(dataSource, { maxPending: config.ORDER_ADMISSION_MAX_PENDING, retryAfterSeconds: config.ORDER_ADMISSION_RETRY_AFTER_SECONDS }),
    },
  ],
})
export class OrdersModule {}
