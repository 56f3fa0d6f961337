import { randomBytes } from 'node:crypto';
import { dropDatabase, eventStoreMigrations, openDatabase } from '@orderflow/eventstore';
import type { DataSource } from 'typeorm';
import { Product } from '../src/catalog/product.entity';
import { IdempotencyKey, OrderSummary } from '../src/order/order.entities';
import { OrdersDeadlines1763700000200 } from '../src/order-deadlines.migration';
import { OrdersReadModels1763700000100 } from '../src/schema.migration';

const SERVER_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432';

/** A fresh database with the orders service's schema, for one test; `drop` removes it. */
export async function openOrdersDatabase(): Promise<{ dataSource: DataSource; drop: () => Promise<void> }> {
  const database = `orderflow_orders_it_${randomBytes(4).toString('hex')}`;
  const dataSource = await openDatabase({
    url: SERVER_URL,
    database,
    migrations: [...eventStoreMigrations, OrdersReadModels1763700000100, OrdersDeadlines1763700000200],
    entities: [Product, OrderSummary, IdempotencyKey],
    poolSize: 4,
  });
  return {
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await dropDatabase(SERVER_URL, database);
    },
  };
}
