import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

type Strip = (value: unknown) => unknown;

/**
 * Compiles, once per schema, a function that copies a value without the object
 * fields the schema does not declare where it forbids additional ones: exactly
 * what the strict check would refuse as "not an allowed field", at any depth.
 * Nothing else is touched, so the strict check that follows still reports a
 * missing or malformed field. The input is never mutated.
 */
export function compileUnknownFieldStripper(schema: TSchema): Strip {
  return build(schema) ?? ((value) => value);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Undefined where the schema holds no object, so that subtree is never walked. */
function build(schema: TSchema): Strip | undefined {
  switch (schema[Kind]) {
    case 'Object':
      return objectStripper(schema);
    case 'Array': {
      const item = build(schema['items'] as TSchema);
      return item && ((value) => (Array.isArray(value) ? value.map(item) : value));
    }
    case 'Union':
      return unionStripper(schema['anyOf'] as TSchema[]);
    case 'Intersect':
    case 'Record':
    case 'Tuple':
    case 'Ref':
    case 'This':
    case 'Import':
      // Rather than strip wrongly, fail when the contracts load, so whoever uses one extends this.
      throw new Error(`compileUnknownFieldStripper does not support ${String(schema[Kind])} schemas yet`);
    default:
      return undefined;
  }
}

/** The value is stripped as the first branch that accepts it once stripped; unchanged if none does. */
function unionStripper(anyOf: TSchema[]): Strip | undefined {
  const branches = anyOf.map((branch) => ({ strip: build(branch), check: TypeCompiler.Compile(branch) }));
  if (branches.every((branch) => branch.strip === undefined)) return undefined;
  return (value) => {
    for (const { strip, check } of branches) {
      const candidate = strip ? strip(value) : value;
      if (check.Check(candidate)) return candidate;
    }
    return value;
  };
}

function objectStripper(schema: TSchema): Strip {
  const properties = schema['properties'] as Record<string, TSchema>;
  const fields = Object.entries(properties).map(([key, field]) => [key, build(field)] as const);
  const closed = schema['additionalProperties'] === false;
  return (value) => {
    if (!isRecord(value)) return value;
    const copy: Record<string, unknown> = closed ? {} : { ...value };
    for (const [key, strip] of fields) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      copy[key] = strip ? strip(value[key]) : value[key];
    }
    return copy;
  };
}
