import { checkCompatibility, type JsonSchema } from './compatibility';

const text = (extra: object = {}) => ({ type: 'string', minLength: 1, maxLength: 200, ...extra });
const literals = (...values: string[]) => ({ anyOf: values.map((value) => ({ const: value, type: 'string' })) });

/** A small event schema in the shape TypeBox emits, with a nested object and an array of objects. */
const committed = {
  $id: 'urn:orderflow:schema:Example:v1',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'lines', 'address', 'status', 'total'],
  properties: {
    orderId: text(),
    note: text(),
    total: { type: 'integer', minimum: 0 },
    status: literals('OPEN', 'CLOSED'),
    lines: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sku', 'quantity'],
        properties: { sku: text({ pattern: '^[A-Z]+$' }), quantity: { type: 'integer', minimum: 1, maximum: 100 } },
      },
    },
    address: {
      type: 'object',
      additionalProperties: false,
      required: ['country'],
      properties: { country: { type: 'string', pattern: '^[A-Z]{2}$' }, city: text() },
    },
  },
};
type Schema = typeof committed;

/** The committed schema with one edit applied to a deep copy. */
function edited(edit: (schema: Schema) => void): JsonSchema {
  const copy = structuredClone(committed);
  edit(copy);
  return copy;
}

describe('checkCompatibility', () => {
  describe('accepts', () => {
    it('an identical schema', () => {
      expect(checkCompatibility(committed, structuredClone(committed))).toEqual([]);
    });

    it('a new optional field', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties, { coupon: text() })))).toEqual([]);
    });

    it('a new optional field in a nested object and in array items', () => {
      const current = edited((s) => {
        Object.assign(s.properties.address.properties, { line2: text() });
        Object.assign(s.properties.lines.items.properties, { gift: { type: 'boolean' } });
      });
      expect(checkCompatibility(committed, current)).toEqual([]);
    });

    it('a new enum value', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.status = literals('OPEN', 'CLOSED', 'ON_HOLD'))))).toEqual([]);
    });

    it('the same enum values in another order', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.status = literals('CLOSED', 'OPEN'))))).toEqual([]);
    });

    it('a literal union widened to any string', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties, { status: { type: 'string' } })))).toEqual([]);
    });

    it('widened constraints', () => {
      const current = edited((s) => {
        s.properties.orderId.maxLength = 500;
        s.properties.lines.minItems = 0;
        s.properties.lines.items.properties.quantity.maximum = 1_000;
        delete (s.properties.address.properties.country as { pattern?: string }).pattern;
      });
      expect(checkCompatibility(committed, current)).toEqual([]);
    });

    it('a required field made optional', () => {
      expect(checkCompatibility(committed, edited((s) => (s.required = s.required.filter((f) => f !== 'total'))))).toEqual([]);
    });

    it('an integer widened to a number', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.total.type = 'number')))).toEqual([]);
    });

    it('additionalProperties false added or dropped, because readers strip unknown fields', () => {
      expect(checkCompatibility(committed, edited((s) => delete (s as { additionalProperties?: boolean }).additionalProperties))).toEqual([]);
      const open = edited((s) => delete (s as { additionalProperties?: boolean }).additionalProperties);
      expect(checkCompatibility(open, committed)).toEqual([]);
    });

    it('changed descriptions and titles', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties.total, { description: 'minor units', title: 'T' })))).toEqual(
        [],
      );
    });
  });

  describe('reports, naming the path', () => {
    it('a removed field', () => {
      expect(checkCompatibility(committed, edited((s) => delete (s.properties as Partial<Schema['properties']>).total))).toEqual([
        'total: field removed (or renamed)',
      ]);
    });

    it('a removed optional field', () => {
      expect(checkCompatibility(committed, edited((s) => delete (s.properties as Partial<Schema['properties']>).note))).toEqual([
        'note: field removed (or renamed)',
      ]);
    });

    it('a renamed field as removed, and the new name as a new required field', () => {
      const current = edited((s) => {
        const properties = s.properties as Record<string, unknown>;
        properties['amount'] = properties['total'];
        delete properties['total'];
        s.required = s.required.map((f) => (f === 'total' ? 'amount' : f));
      });
      expect(checkCompatibility(committed, current)).toEqual(['total: field removed (or renamed)', 'amount: new required field']);
    });

    it('a field removed from a nested object', () => {
      const current = edited((s) => delete (s.properties.address.properties as { city?: unknown }).city);
      expect(checkCompatibility(committed, current)).toEqual(['address.city: field removed (or renamed)']);
    });

    it('a field removed from the items of an array', () => {
      const current = edited((s) => delete (s.properties.lines.items.properties as { sku?: unknown }).sku);
      expect(checkCompatibility(committed, current)).toEqual(['lines[].sku: field removed (or renamed)']);
    });

    it('a type changed from integer to string', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties, { total: { type: 'string' } })))).toEqual([
        'total: type changed from integer to string',
      ]);
    });

    it('a type changed from string to integer', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties, { orderId: { type: 'integer' } })))).toEqual([
        'orderId: type changed from string to integer',
      ]);
    });

    it('a number narrowed to an integer', () => {
      const numeric = edited((s) => (s.properties.total.type = 'number'));
      expect(checkCompatibility(numeric, committed)).toEqual(['total: type changed from number to integer']);
    });

    it('a type changed inside array items', () => {
      const current = edited((s) => Object.assign(s.properties.lines.items.properties, { quantity: { type: 'string' } }));
      expect(checkCompatibility(committed, current)).toEqual(['lines[].quantity: type changed from integer to string']);
    });

    it('an array item schema replaced by another type', () => {
      const current = edited((s) => Object.assign(s.properties.lines, { items: { type: 'string' } }));
      expect(checkCompatibility(committed, current)).toEqual(['lines[]: type changed from object to string']);
    });

    it('an optional field made required', () => {
      expect(checkCompatibility(committed, edited((s) => s.required.push('note')))).toEqual(['note: optional field made required']);
    });

    it('a new required field', () => {
      const current = edited((s) => {
        Object.assign(s.properties, { coupon: text() });
        s.required.push('coupon');
      });
      expect(checkCompatibility(committed, current)).toEqual(['coupon: new required field']);
    });

    it('a new required field in a nested object', () => {
      const current = edited((s) => {
        Object.assign(s.properties.address.properties, { postalCode: text() });
        s.properties.address.required.push('postalCode');
      });
      expect(checkCompatibility(committed, current)).toEqual(['address.postalCode: new required field']);
    });

    it('an enum value removed', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.status = literals('OPEN'))))).toEqual(['status: value "CLOSED" was removed']);
    });

    it('an enum keyword value removed', () => {
      const old = { type: 'string', enum: ['A', 'B'] };
      expect(checkCompatibility(old, { type: 'string', enum: ['A'] })).toEqual(['(root): value "B" was removed']);
      expect(checkCompatibility(old, { type: 'string', enum: ['B', 'A', 'C'] })).toEqual([]);
    });

    it('a string narrowed to a literal union', () => {
      expect(checkCompatibility({ type: 'string' }, literals('A'))).toEqual(['(root): restricted to the single value "A"']);
    });

    it('a narrowed maxLength', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.orderId.maxLength = 100)))).toEqual([
        'orderId: maxLength narrowed from 200 to 100',
      ]);
    });

    it('a raised minLength', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.orderId.minLength = 3)))).toEqual(['orderId: minLength narrowed from 1 to 3']);
    });

    it('a raised minimum and a lowered maximum in array items', () => {
      const current = edited((s) => Object.assign(s.properties.lines.items.properties.quantity, { minimum: 2, maximum: 50 }));
      expect(checkCompatibility(committed, current)).toEqual([
        'lines[].quantity: minimum narrowed from 1 to 2',
        'lines[].quantity: maximum narrowed from 100 to 50',
      ]);
    });

    it('a bound added where there was none', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties.total, { maximum: 1_000_000 })))).toEqual([
        'total: maximum narrowed from none to 1000000',
      ]);
    });

    it('a changed pattern, which cannot be proven wider', () => {
      const current = edited((s) => (s.properties.address.properties.country.pattern = '^[A-Z]{2,3}$'));
      expect(checkCompatibility(committed, current)).toEqual(['address.country: pattern changed from "^[A-Z]{2}$" to "^[A-Z]{2,3}$"']);
    });

    it('a pattern or format added', () => {
      const current = edited((s) => Object.assign(s.properties.note, { pattern: '^x', format: 'email' }));
      expect(checkCompatibility(committed, current)).toEqual(['note: pattern "^x" added', 'note: format "email" added']);
    });

    it('an array that must now hold more items', () => {
      expect(checkCompatibility(committed, edited((s) => (s.properties.lines.minItems = 2)))).toEqual(['lines: minItems narrowed from 1 to 2']);
    });

    it('a keyword it does not model, rather than guess', () => {
      expect(checkCompatibility(committed, edited((s) => Object.assign(s.properties.note, { not: { const: '' } })))).toEqual([
        'note: not changed, which this checker cannot judge: make it a new version',
      ]);
    });

    it('a schema that accepted anything and no longer does', () => {
      expect(checkCompatibility({}, { type: 'string' })).toEqual(['(root): accepted any value, now constrained']);
    });

    it('every problem at once', () => {
      const current = edited((s) => {
        delete (s.properties as Partial<Schema['properties']>).note;
        s.properties.status = literals('OPEN');
        s.properties.total.type = 'string';
      });
      expect(checkCompatibility(committed, current)).toEqual([
        'note: field removed (or renamed)',
        'total: type changed from integer to string',
        'status: value "CLOSED" was removed',
      ]);
    });
  });
});
