import { Module } from '@nestjs/common';
import { CONFIG } from '@orderflow/service-kit';
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
  ],
})
export class OrdersModule {}
