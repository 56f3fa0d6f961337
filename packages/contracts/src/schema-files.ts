import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventCatalog, jsonSchemaOf, type EventType } from './catalog';
import { checkCompatibility, type JsonSchema } from './compatibility';

/** `packages/contracts/schemas`, whether this runs from `src` (jest) or from `dist` (the script). */
export const SCHEMAS_DIR = resolve(__dirname, '..', 'schemas');
const REGENERATE = 'npm run schemas -w @orderflow/contracts';
const FILE_NAME = /^([A-Za-z][A-Za-z0-9]*)\.v([1-9][0-9]*)\.json$/;

/** An event type's schema at one version: what the catalog has now, or what a committed file holds. */
export interface VersionedSchema {
  type: string;
  version: number;
  schema: JsonSchema;
}

export interface SchemaFile extends VersionedSchema {
  file: string;
  text: string;
}

export const schemaFileName = (type: string, version: number): string => `${type}.v${version}.json`;

/** Pretty JSON in the key order of the schema: a reformatted file (prettier) still compares equal. */
const render = (schema: JsonSchema): string => `${JSON.stringify(schema, null, 2)}\n`;

export function currentSchemas(): VersionedSchema[] {
  return (Object.keys(EventCatalog) as EventType[]).map((type) => ({
    type,
    version: EventCatalog[type].version,
    schema: jsonSchemaOf(type),
  }));
}

export function readSchemaFiles(dir: string = SCHEMAS_DIR): SchemaFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`schemas/${file} is not named <EventType>.v<version>.json`);
      const text = readFileSync(join(dir, file), 'utf8');
      return { file, type: match[1]!, version: Number(match[2]), schema: JSON.parse(text) as JsonSchema, text };
    });
}

/**
 * The catalog's schema of each event type at its current version must be committed,
 * exactly as the code generates it, so the files are the reviewed record of every
 * version: one message per missing or differing file.
 */
export function outdatedSchemaFiles(committed: readonly SchemaFile[], current: readonly VersionedSchema[] = currentSchemas()): string[] {
  const texts = new Map(committed.map((file) => [file.file, file.text]));
  return current.flatMap(({ type, version, schema }) => {
    const file = schemaFileName(type, version);
    const text = texts.get(file);
    if (text === undefined) return [`schemas/${file} is missing: run \`${REGENERATE}\` and commit it`];
    if (render(JSON.parse(text) as JsonSchema) !== render(schema)) {
      return [`schemas/${file} differs from the ${type} schema in the code: run \`${REGENERATE}\` and commit it`];
    }
    return [];
  });
}

/**
 * The backward-compatibility gate: a committed file of type T at version N, while the
 * catalog still has T at N, must be compatible with the catalog's schema. An
 * incompatible change is a new version (the catalog's version bumped, a new file);
 * the old file then stays committed and is only checked against itself.
 */
export function compatibilityProblems(committed: readonly SchemaFile[], current: readonly VersionedSchema[] = currentSchemas()): string[] {
  const byType = new Map(current.map((entry) => [entry.type, entry]));
  return committed.flatMap(({ file, type, version, schema }) => {
    const problems: string[] = [];
    const id = typeof schema === 'object' ? schema['$id'] : undefined;
    if (id !== `urn:orderflow:schema:${type}:v${version}`) problems.push(`schemas/${file}: $id ${JSON.stringify(id)} does not match its file name`);
    const now = byType.get(type);
    if (now && now.version < version) {
      problems.push(`schemas/${file} is committed but the catalog has ${type} at v${now.version}: versions only go up`);
    }
    if (now?.version !== version) return problems;
    const incompatible = checkCompatibility(schema, now.schema);
    if (incompatible.length) {
      problems.push(
        ...incompatible.map((problem) => `schemas/${file}: ${problem}`),
        `schemas/${file}: ${type} v${version} changed incompatibly; make the change a new version of ${type} (bump its version in the catalog)`,
      );
    }
    return problems;
  });
}

export interface WriteResult {
  written: string[];
  unchanged: string[];
  /** Files left as they are because the code's schema is not compatible with them. */
  refused: string[];
}

/**
 * Writes each catalog schema at its current version. It never overwrites a committed
 * file with an incompatible schema (that would make the gate pass by rewriting what it
 * compares against), and never deletes one: an old version stays as long as events of
 * it may be stored anywhere.
 */
export function writeSchemaFiles(dir: string = SCHEMAS_DIR, current: readonly VersionedSchema[] = currentSchemas()): WriteResult {
  mkdirSync(dir, { recursive: true });
  const committed = new Map(readSchemaFiles(dir).map((file) => [file.file, file]));
  const result: WriteResult = { written: [], unchanged: [], refused: [] };
  for (const entry of current) {
    const file = schemaFileName(entry.type, entry.version);
    const existing = committed.get(file);
    if (existing) {
      const problems = compatibilityProblems([existing], [entry]);
      if (problems.length) {
        result.refused.push(...problems);
        continue;
      }
      if (existing.text === render(entry.schema)) {
        result.unchanged.push(file);
        continue;
      }
    }
    writeFileSync(join(dir, file), render(entry.schema));
    result.written.push(file);
  }
  return result;
}
