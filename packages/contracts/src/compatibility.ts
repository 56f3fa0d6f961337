/** A JSON Schema as it is committed: plain JSON, `true`/`false` included. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

type SchemaObject = { readonly [keyword: string]: unknown };

/**
 * What "backward compatible" means for an event schema, checked path by path:
 *
 * - every event valid under the committed schema is still valid under the current
 *   one, because stored events are replayed and events still in a topic are read by
 *   the new code: no new required field, no optional field made required, no enum or
 *   literal value removed, no type changed (integer → number widens and is allowed),
 *   no constraint narrowed (bounds, pattern, format, multipleOf, uniqueItems);
 * - no field disappears, optional or not (a rename is a removal): a consumer still on
 *   the committed schema, or a projection, may rely on it;
 * - `additionalProperties` may change either way: readers are tolerant (they strip
 *   unknown fields before validating), so closing an object rejects nothing a reader
 *   accepted, and opening it only affects producers, which stay strict.
 *
 * Adding an optional field, an enum value or widening a constraint is compatible for
 * stored events; an older consumer still refuses a value it does not know, so deploy
 * consumers before the producer that emits it. Keywords this checker does not model
 * must stay identical: it reports them rather than guess.
 */
export function checkCompatibility(committed: JsonSchema, current: JsonSchema): string[] {
  const problems: string[] = [];
  compare(committed, current, '', problems);
  return problems;
}

const ANNOTATIONS = new Set([
  '$id',
  '$schema',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties', 'minContains'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties', 'maxContains'] as const;
const MODELLED = new Set<string>([
  ...LOWER_BOUNDS,
  ...UPPER_BOUNDS,
  'type',
  'const',
  'enum',
  'anyOf',
  'oneOf',
  'pattern',
  'format',
  'multipleOf',
  'uniqueItems',
  'items',
  'properties',
  'required',
  'additionalProperties',
]);

const at = (path: string): string => path || '(root)';
const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const show = (value: unknown): string => JSON.stringify(value);

function isSchemaObject(schema: unknown): schema is SchemaObject {
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema);
}

/** `true`, `{}` and annotation-only schemas accept every value. */
function acceptsAnything(schema: JsonSchema): boolean {
  return schema === true || (isSchemaObject(schema) && Object.keys(schema).every((k) => ANNOTATIONS.has(k)));
}

function branchesOf(schema: SchemaObject): readonly JsonSchema[] | undefined {
  const branches = schema['anyOf'] ?? schema['oneOf'];
  return Array.isArray(branches) ? (branches as JsonSchema[]) : undefined;
}

function compare(old: JsonSchema, now: JsonSchema, path: string, problems: string[]): void {
  if (acceptsAnything(now) || old === false) return;
  if (now === false) return void problems.push(`${at(path)}: accepts no value any more`);
  if (!isSchemaObject(now)) return void problems.push(`${at(path)}: is not a schema`);
  if (acceptsAnything(old)) return void problems.push(`${at(path)}: accepted any value, now constrained`);
  if (!isSchemaObject(old)) return void problems.push(`${at(path)}: was not a schema`);

  const oldBranches = branchesOf(old);
  const newBranches = branchesOf(now);
  if (oldBranches || newBranches) return compareUnion(oldBranches ?? [old], newBranches ?? [now], path, problems);

  // Once the type differs, the keywords of the old type say nothing more worth reading.
  if (!compareType(old, now, path, problems)) return;
  compareValues(old, now, path, problems);
  compareConstraints(old, now, path, problems);
  compareItems(old, now, path, problems);
  compareObject(old, now, path, problems);
  for (const keyword of Object.keys({ ...old, ...now })) {
    if (ANNOTATIONS.has(keyword) || MODELLED.has(keyword)) continue;
    if (show(old[keyword]) !== show(now[keyword])) {
      problems.push(`${at(path)}: ${keyword} changed, which this checker cannot judge: make it a new version`);
    }
  }
}

/** Every value one of the committed branches accepted must still be accepted by some current branch. */
function compareUnion(oldBranches: readonly JsonSchema[], newBranches: readonly JsonSchema[], path: string, problems: string[]): void {
  for (const branch of oldBranches) {
    const attempts = newBranches.map((candidate) => checkCompatibilityAt(branch, candidate, path));
    if (attempts.some((found) => found.length === 0)) continue;
    if (isSchemaObject(branch) && 'const' in branch) {
      problems.push(`${at(path)}: value ${show(branch['const'])} was removed`);
    } else {
      const closest = attempts.reduce((best, found) => (found.length < best.length ? found : best));
      problems.push(...closest);
    }
  }
}

function checkCompatibilityAt(old: JsonSchema, now: JsonSchema, path: string): string[] {
  const problems: string[] = [];
  compare(old, now, path, problems);
  return problems;
}

function typesOf(schema: SchemaObject): string[] | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type as string[];
  if ('const' in schema) {
    const value = schema['const'];
    if (value === null) return ['null'];
    if (Array.isArray(value)) return ['array'];
    return [Number.isInteger(value) ? 'integer' : typeof value];
  }
  return undefined;
}

/** False when the type changed. */
function compareType(old: SchemaObject, now: SchemaObject, path: string, problems: string[]): boolean {
  const newTypes = typesOf(now);
  if (!newTypes) return true;
  const oldTypes = typesOf(old);
  if (!oldTypes) {
    problems.push(`${at(path)}: type restricted to ${newTypes.join(' | ')}`);
    return false;
  }
  const accepted = (type: string) => newTypes.includes(type) || (type === 'integer' && newTypes.includes('number'));
  if (oldTypes.every(accepted)) return true;
  problems.push(`${at(path)}: type changed from ${oldTypes.join(' | ')} to ${newTypes.join(' | ')}`);
  return false;
}

function compareValues(old: SchemaObject, now: SchemaObject, path: string, problems: string[]): void {
  if ('const' in now) {
    if (!('const' in old)) problems.push(`${at(path)}: restricted to the single value ${show(now['const'])}`);
    else if (show(old['const']) !== show(now['const'])) {
      problems.push(`${at(path)}: value changed from ${show(old['const'])} to ${show(now['const'])}`);
    }
  }
  if (Array.isArray(now['enum'])) {
    const allowed = new Set(now['enum'].map(show));
    if (Array.isArray(old['enum'])) {
      for (const value of old['enum']) if (!allowed.has(show(value))) problems.push(`${at(path)}: value ${show(value)} was removed`);
    } else if (!('const' in old && allowed.has(show(old['const'])))) {
      problems.push(`${at(path)}: restricted to the values ${show(now['enum'])}`);
    }
  }
}

function compareConstraints(old: SchemaObject, now: SchemaObject, path: string, problems: string[]): void {
  const narrowed = (keyword: string) =>
    problems.push(`${at(path)}: ${keyword} narrowed from ${old[keyword] === undefined ? 'none' : show(old[keyword])} to ${show(now[keyword])}`);
  for (const keyword of LOWER_BOUNDS) {
    const bound = now[keyword];
    if (typeof bound === 'number' && !(typeof old[keyword] === 'number' && bound <= old[keyword])) narrowed(keyword);
  }
  for (const keyword of UPPER_BOUNDS) {
    const bound = now[keyword];
    if (typeof bound === 'number' && !(typeof old[keyword] === 'number' && bound >= old[keyword])) narrowed(keyword);
  }
  const step = now['multipleOf'];
  if (typeof step === 'number' && !(typeof old['multipleOf'] === 'number' && Number.isInteger(old['multipleOf'] / step))) {
    narrowed('multipleOf');
  }
  if (now['uniqueItems'] === true && old['uniqueItems'] !== true) narrowed('uniqueItems');
  // Whether one regular expression accepts everything another does is not decidable here: any change counts.
  for (const keyword of ['pattern', 'format']) {
    if (now[keyword] !== undefined && now[keyword] !== old[keyword]) {
      problems.push(
        old[keyword] === undefined
          ? `${at(path)}: ${keyword} ${show(now[keyword])} added`
          : `${at(path)}: ${keyword} changed from ${show(old[keyword])} to ${show(now[keyword])}`,
      );
    }
  }
}

function compareItems(old: SchemaObject, now: SchemaObject, path: string, problems: string[]): void {
  const oldItems = old['items'] ?? true;
  const newItems = now['items'] ?? true;
  if (Array.isArray(oldItems) || Array.isArray(newItems)) {
    if (show(oldItems) !== show(newItems)) problems.push(`${at(path)}: tuple items changed, which this checker cannot judge`);
    return;
  }
  compare(oldItems as JsonSchema, newItems as JsonSchema, `${path}[]`, problems);
}

function compareObject(old: SchemaObject, now: SchemaObject, path: string, problems: string[]): void {
  const oldProperties = (old['properties'] ?? {}) as Record<string, JsonSchema>;
  const newProperties = (now['properties'] ?? {}) as Record<string, JsonSchema>;
  const has = (properties: Record<string, JsonSchema>, key: string) => Object.prototype.hasOwnProperty.call(properties, key);
  for (const key of Object.keys(oldProperties)) {
    if (!has(newProperties, key)) problems.push(`${child(path, key)}: field removed (or renamed)`);
    else compare(oldProperties[key]!, newProperties[key]!, child(path, key), problems);
  }
  const oldRequired = new Set((old['required'] ?? []) as string[]);
  for (const key of (now['required'] ?? []) as string[]) {
    if (oldRequired.has(key)) continue;
    problems.push(`${child(path, key)}: ${has(oldProperties, key) ? 'optional field made required' : 'new required field'}`);
  }
  // Unknown fields are stripped by readers, so `additionalProperties: false` may come or go;
  // only a schema for the additional values is compared.
  if (isSchemaObject(old['additionalProperties']) && isSchemaObject(now['additionalProperties'])) {
    compare(old['additionalProperties'], now['additionalProperties'], child(path, '*'), problems);
  }
}
