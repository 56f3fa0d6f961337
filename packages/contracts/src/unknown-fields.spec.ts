import { Type } from '@sinclair/typebox';
import { compileUnknownFieldStripper } from './unknown-fields';

const Line = Type.Object({ sku: Type.String(), quantity: Type.Integer() }, { additionalProperties: false });
const Order = Type.Object(
  {
    orderId: Type.String(),
    lines: Type.Array(Line),
    status: Type.Union([Type.Literal('OPEN'), Type.Literal('CLOSED')]),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

describe('compileUnknownFieldStripper', () => {
  const strip = compileUnknownFieldStripper(Order);

  it('drops undeclared fields at the top, in nested objects and in array items', () => {
    const value = { orderId: 'o-1', lines: [{ sku: 'MUG', quantity: 1, colour: 'red' }], status: 'OPEN', extra: { deep: true } };
    expect(strip(value)).toEqual({ orderId: 'o-1', lines: [{ sku: 'MUG', quantity: 1 }], status: 'OPEN' });
  });

  it('leaves the value it was given untouched', () => {
    const value = { orderId: 'o-1', lines: [{ sku: 'MUG', quantity: 1, colour: 'red' }], status: 'OPEN', extra: 1 };
    const before = structuredClone(value);
    strip(value);
    expect(value).toEqual(before);
  });

  it('keeps optional fields that are present and does not invent absent ones', () => {
    expect(strip({ orderId: 'o-1', lines: [], status: 'OPEN', note: 'ring twice' })).toEqual({
      orderId: 'o-1',
      lines: [],
      status: 'OPEN',
      note: 'ring twice',
    });
    expect(strip({ orderId: 'o-1' })).toEqual({ orderId: 'o-1' });
  });

  it('passes values of the wrong shape through for the strict check to report', () => {
    expect(strip(null)).toBeNull();
    expect(strip('order')).toBe('order');
    expect(strip({ orderId: 'o-1', lines: 'many' })).toEqual({ orderId: 'o-1', lines: 'many' });
    expect(strip({ orderId: 'o-1', lines: [7, null] })).toEqual({ orderId: 'o-1', lines: [7, null] });
  });

  it('keeps extra fields where the schema allows them', () => {
    const open = compileUnknownFieldStripper(Type.Object({ id: Type.String() }));
    expect(open({ id: 'a', extra: 1 })).toEqual({ id: 'a', extra: 1 });
  });

  it('strips inside the branch of a union of objects that the value matches', () => {
    const Shape = Type.Union([
      Type.Object({ kind: Type.Literal('circle'), radius: Type.Number() }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('square'), side: Type.Number() }, { additionalProperties: false }),
    ]);
    const value = { kind: 'square', side: 2, colour: 'red' };
    expect(compileUnknownFieldStripper(Shape)(value)).toEqual({ kind: 'square', side: 2 });
    expect(value).toHaveProperty('colour');
    expect(compileUnknownFieldStripper(Shape)({ kind: 'triangle', colour: 'red' })).toEqual({ kind: 'triangle', colour: 'red' });
  });

  it('refuses a schema kind it cannot strip correctly, when it is compiled', () => {
    const Tagged = Type.Intersect([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]);
    expect(() => compileUnknownFieldStripper(Tagged)).toThrow('does not support Intersect schemas');
  });
});
