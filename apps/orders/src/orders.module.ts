import { Module } from '@nestjs/common';
import { CONFIG } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import { DataSource } from 'typeorm';
import type { OrdersConfigSchema } from './config';
import { CustomerAuthGuard, OperatorGuard } from './auth/auth.guard';
import { DevTokenController } from './auth/dev-token.controller';
import { TOKEN_VERIFIER, tokenVerifierFrom } from './auth/token-verifier';
import { ProductCatalogConsumer } from './catalog/product-catalog.consumer';
import { ProductsController } from './catalog/products.controller';
import { OrdersController } from './order/orders.controller';
import { OrderStreamController } from './live/order-stream.controller';
import { OrderStreamHub } from './live/order-stream.hub';
import { StorefrontController } from './storefront/storefront.controller';
import { OpsController } from './ops/ops.controller';
import { Operations } from './ops/operations';
import { OrderSagaConsumer } from './saga/order-saga.consumer';
import { OrderTimeoutJob } from './saga/order-timeout.job';
import { CatalogCache } from './catalog/catalog-cache';
import { PlaceOrderBatcher } from './order/place-order.batcher';
import { OrderAdmission } from './order/order-admission';
import { OrderMetrics } from './order/order-metrics';

@Module({
  controllers: [ProductsController, OrdersController, OrderSagaConsumer, ProductCatalogConsumer, DevTokenController, OrderStreamController, StorefrontController, OpsController],
  providers: [
    { provide: TOKEN_VERIFIER, useFactory: tokenVerifierFrom, inject: [CONFIG] },
    CustomerAuthGuard,
    OperatorGuard,
    OrderTimeoutJob,
    CatalogCache,
    PlaceOrderBatcher,
    OrderStreamHub,
    Operations,
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
