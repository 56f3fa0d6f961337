import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSchemaUri, EventCatalog, jsonSchemaOf, type EventType } from './catalog';
import type { JsonSchema } from './compatibility';
import {
  compatibilityProblems,
  currentSchemas,
  outdatedSchemaFiles,
  readSchemaFiles,
  writeSchemaFiles,
  type SchemaFile,
  type VersionedSchema,
} from './schema-files';

type ObjectSchema = { properties: Record<string, JsonSchema>; required: string[]; [keyword: string]: unknown };

const committed = readSchemaFiles();
const committedFile = (file: string): SchemaFile => {
  const found = committed.find((f) => f.file === file);
  if (!found) throw new Error(`schemas/${file} is not committed`);
  return found;
};

/** The catalog as it is now, with one event type's entry replaced. */
function catalogWith(type: EventType, change: (entry: VersionedSchema & { schema: ObjectSchema }) => VersionedSchema): VersionedSchema[] {
  return currentSchemas().map((entry) =>
    entry.type === type ? change(structuredClone(entry) as VersionedSchema & { schema: ObjectSchema }) : entry,
  );
}

function withoutField(schema: ObjectSchema, field: string): ObjectSchema {
  delete schema.properties[field];
  schema.required = schema.required.filter((f) => f !== field);
  return schema;
}

describe('committed event schemas', () => {
  it('are exactly what the code generates, one file per event type at its catalog version', () => {
    expect(outdatedSchemaFiles(committed)).toEqual([]);
  });

  it('are each backward compatible with the catalog schema of the same version (the gate)', () => {
    expect(compatibilityProblems(committed)).toEqual([]);
  });

  it('carry the dataschema URI of their event as $id', () => {
    expect(jsonSchemaOf('OrderPlaced')['$id']).toBe(dataSchemaUri('OrderPlaced'));
    expect(committedFile('OrderPlaced.v1.json').schema).toMatchObject({ $id: 'urn:orderflow:schema:OrderPlaced:v1' });
  });
});

describe('the compatibility gate', () => {
  it('reports a field dropped from a real schema without a new version', () => {
    const current = catalogWith('OrderPlaced', (entry) => ({ ...entry, schema: withoutField(entry.schema, 'customerId') }));
    expect(compatibilityProblems(committed, current)).toEqual([
      'schemas/OrderPlaced.v1.json: customerId: field removed (or renamed)',
      'schemas/OrderPlaced.v1.json: OrderPlaced v1 changed incompatibly; make the change a new version of OrderPlaced (bump its version in the catalog)',
    ]);
  });

  it('reports an enum value removed from a real schema', () => {
    const current = catalogWith('OrderCancelled', (entry) => {
      const reason = entry.schema.properties['reason'] as { anyOf: { const: string }[] };
      reason.anyOf = reason.anyOf.filter((branch) => branch.const !== 'TIMEOUT');
      return entry;
    });
    expect(compatibilityProblems(committed, current)).toContain('schemas/OrderCancelled.v1.json: reason: value "TIMEOUT" was removed');
  });

  it('accepts the same incompatible change as a new version, and then wants the new file committed', () => {
    const current = catalogWith('OrderPlaced', (entry) => ({
      ...entry,
      version: 2,
      schema: { ...withoutField(entry.schema, 'customerId'), $id: 'urn:orderflow:schema:OrderPlaced:v2' },
    }));
    expect(compatibilityProblems(committed, current)).toEqual([]);
    expect(outdatedSchemaFiles(committed, current)).toEqual([
      'schemas/OrderPlaced.v2.json is missing: run `npm run schemas -w @orderflow/contracts` and commit it',
    ]);
  });

  it('accepts what changed since the last release: optional catalog fields on StockLevelChanged', () => {
    const released = structuredClone(committedFile('StockLevelChanged.v1.json'));
    const schema = released.schema as ObjectSchema;
    for (const field of ['name', 'unitPrice', 'currency']) delete schema.properties[field];
    expect(compatibilityProblems([released])).toEqual([]);
  });

  it('reports a catalog version lower than a committed file', () => {
    const current = catalogWith('OrderPlaced', (entry) => ({ ...entry, version: 0 }));
    expect(compatibilityProblems([committedFile('OrderPlaced.v1.json')], current)).toEqual([
      'schemas/OrderPlaced.v1.json is committed but the catalog has OrderPlaced at v0: versions only go up',
    ]);
  });

  it('reports a file whose $id is not the one its name says', () => {
    const misnamed = { ...committedFile('OrderPlaced.v1.json'), file: 'OrderPlaced.v3.json', version: 3 };
    expect(compatibilityProblems([misnamed])).toContainEqual(expect.stringContaining('$id "urn:orderflow:schema:OrderPlaced:v1" does not match'));
  });

  it('reports a compatible change that was not written to its file, telling how to fix it', () => {
    const current = catalogWith('PaymentVoided', (entry) => {
      entry.schema.properties['note'] = { type: 'string' };
      return entry;
    });
    expect(compatibilityProblems(committed, current)).toEqual([]);
    expect(outdatedSchemaFiles(committed, current)).toEqual([
      'schemas/PaymentVoided.v1.json differs from the PaymentVoided schema in the code: run `npm run schemas -w @orderflow/contracts` and commit it',
    ]);
  });

  it('does not mind a committed file reformatted without changing its content', () => {
    const file = committedFile('OrderConfirmed.v1.json');
    const reformatted = { ...file, text: JSON.stringify(file.schema) };
    expect(outdatedSchemaFiles([reformatted], currentSchemas().filter((e) => e.type === 'OrderConfirmed'))).toEqual([]);
  });
});

describe('writeSchemaFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orderflow-schemas-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the file of every event type, then finds nothing to write', () => {
    const first = writeSchemaFiles(dir);
    expect(first.written).toHaveLength(Object.keys(EventCatalog).length);
    expect(outdatedSchemaFiles(readSchemaFiles(dir))).toEqual([]);
    expect(writeSchemaFiles(dir)).toEqual({ written: [], unchanged: first.written, refused: [] });
  });

  it('writes the same text as the committed files', () => {
    writeSchemaFiles(dir);
    expect(readFileSync(join(dir, 'OrderPlaced.v1.json'), 'utf8')).toBe(committedFile('OrderPlaced.v1.json').text);
  });

  it('writes a compatible change over the committed file', () => {
    writeSchemaFiles(dir);
    const current = catalogWith('OrderConfirmed', (entry) => {
      entry.schema.properties['note'] = { type: 'string' };
      return entry;
    });
    expect(writeSchemaFiles(dir, current).written).toEqual(['OrderConfirmed.v1.json']);
    expect(JSON.parse(readFileSync(join(dir, 'OrderConfirmed.v1.json'), 'utf8'))).toHaveProperty('properties.note');
  });

  it('refuses to overwrite a committed file with an incompatible schema, leaving it as it was', () => {
    writeSchemaFiles(dir);
    const before = readFileSync(join(dir, 'OrderPlaced.v1.json'), 'utf8');
    const current = catalogWith('OrderPlaced', (entry) => ({ ...entry, schema: withoutField(entry.schema, 'customerId') }));
    const result = writeSchemaFiles(dir, current);
    expect(result.refused).toContain('schemas/OrderPlaced.v1.json: customerId: field removed (or renamed)');
    expect(result.written).toEqual([]);
    expect(readFileSync(join(dir, 'OrderPlaced.v1.json'), 'utf8')).toBe(before);
  });

  it('writes an incompatible change as a new version and keeps the old file', () => {
    writeSchemaFiles(dir);
    const current = catalogWith('OrderPlaced', (entry) => ({
      ...entry,
      version: 2,
      schema: { ...withoutField(entry.schema, 'customerId'), $id: 'urn:orderflow:schema:OrderPlaced:v2' },
    }));
    expect(writeSchemaFiles(dir, current).written).toEqual(['OrderPlaced.v2.json']);
    expect(readSchemaFiles(dir).map((f) => f.file)).toEqual(expect.arrayContaining(['OrderPlaced.v1.json', 'OrderPlaced.v2.json']));
  });

  it('refuses to read a file that is not named for an event type and version', () => {
    writeFileSync(join(dir, 'order-placed.json'), '{}');
    expect(() => readSchemaFiles(dir)).toThrow('schemas/order-placed.json is not named <EventType>.v<version>.json');
  });
});
