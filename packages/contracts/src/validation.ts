import { FormatRegistry, type TSchema, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `items[0].quantity`; empty for the root. */
  field: string;
  message: string;
}

export type Validator<T extends TSchema> = (value: unknown) =>
  | { ok: true; value: Static<T> }
  | { ok: false; issues: ValidationIssue[] };

/** `/items/0/quantity` → `items[0].quantity`: the form API clients read in error messages. */
export function toFieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function describe(error: { message: string; schema: TSchema; value: unknown }): string {
  const additional = error.schema.additionalProperties === false && error.message.includes('Unexpected property');
  if (additional) return 'is not an allowed field';
  if (error.value === undefined) return 'is required';
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

/** Compiles a JSON Schema once; the returned function reports every offending field by path. */
export function compileValidator<T extends TSchema>(schema: T): Validator<T> {
  const compiled = TypeCompiler.Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return { ok: true, value };
    const seen = new Set<string>();
    const issues: ValidationIssue[] = [];
    for (const error of compiled.Errors(value)) {
      const field = toFieldPath(error.path);
      if (seen.has(field)) continue; // a union reports each branch; the first message is the useful one
      seen.add(field);
      issues.push({ field, message: describe(error) });
    }
    return { ok: false, issues };
  };
}
