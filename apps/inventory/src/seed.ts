import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Currency, Money, Sku, compileValidator } from '@orderflow/contracts';
import { inTransaction, openDatabase } from '@orderflow/eventstore';
import { databaseSchema, loadConfig } from '@orderflow/service-kit';
import { inventoryService } from './service';
import { catalogueProduct } from './stock/stock.handler';

const CatalogFile = Type.Array(
  Type.Object(
    {
      sku: Sku,
      name: Type.String({ minLength: 1, maxLength: 200 }),
      unitPrice: Money,
      currency: Currency,
      stock: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
  { minItems: 1 },
);

/**
 * `npm run seed -w @orderflow/inventory -- [catalog.json]`: catalogues products and
 * tops their stock up, through the event store and outbox like any other change, so
 * the running inventory service publishes them. Safe to run again.
 */
async function seed(file: string): Promise<void> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const result = compileValidator(CatalogFile)(parsed);
  if (!result.ok) {
    throw new Error(`${file} is not a valid catalog: ${result.issues.map((i) => `${i.field} ${i.message}`).join('; ')}`);
  }
  const config = loadConfig(inventoryService.configSchema);
  const dataSource = await openDatabase({
    url: config.DATABASE_URL,
    database: config.DATABASE_NAME,
    ...databaseSchema(inventoryService),
  });
  try {
    for (const product of result.value) {
      const events = await inTransaction(dataSource, (tx) =>
        catalogueProduct(tx, {
          type: 'CatalogueProduct',
          sku: product.sku,
          name: product.name,
          unitPrice: product.unitPrice,
          currency: product.currency,
          availableAtLeast: product.stock,
          at: new Date(),
        }),
      );
      const what = events.length ? events.map((e) => e.type).join(' + ') : 'unchanged';
      process.stdout.write(`  ${product.sku.padEnd(14)} ${what}\n`);
    }
  } finally {
    await dataSource.destroy();
  }
}

const file = resolve(process.argv[2] ?? resolve(__dirname, '../catalog/demo.json'));
seed(file).then(
  () => process.stdout.write(`seeded catalog from ${file}\n`),
  (error: Error) => {
    process.stderr.write(`seed failed: ${error.message}\n`);
    process.exit(1);
  },
);
