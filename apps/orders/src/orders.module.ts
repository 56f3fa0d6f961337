import { Module } from '@nestjs/common';
import { CustomerAuthGuard } from './auth/auth.guard';
import { ProductCatalogConsumer } from './catalog/product-catalog.consumer';
import { ProductsController } from './catalog/products.controller';
import { OrdersController } from './order/orders.controller';
import { OrderSagaConsumer } from './saga/order-saga.consumer';
import { OrderTimeoutJob } from './saga/order-timeout.job';
import { CatalogCache } from './catalog/catalog-cache';
import { PlaceOrderBatcher } from './order/place-order.batcher';
import { OrderMetrics } from './order/order-metrics';

@Module({
  controllers: [ProductsController, OrdersController, OrderSagaConsumer, ProductCatalogConsumer],
  providers: [CustomerAuthGuard, OrderTimeoutJob, CatalogCache, PlaceOrderBatcher, OrderMetrics],
})
export class OrdersModule {}
