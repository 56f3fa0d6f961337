import { Type } from '@sinclair/typebox';
import { compileValidator, toFieldPath } from './validation';

describe('toFieldPath', () => {
  it.each([
    ['', ''],
    ['/total', 'total'],
    ['/shippingAddress/country', 'shippingAddress.country'],
    ['/items/0/quantity', 'items[0].quantity'],
    ['/items/12', 'items[12]'],
    ['/matrix/0/1', 'matrix[0][1]'],
    ['/0/sku', '[0].sku'],
  ])('turns the JSON pointer "%s" into "%s"', (pointer, field) => {
    expect(toFieldPath(pointer)).toBe(field);
  });

  it('unescapes ~1 to a slash and ~0 to a tilde, in that order', () => {
    expect(toFieldPath('/a~1b')).toBe('a/b');
    expect(toFieldPath('/a~0b')).toBe('a~b');
    expect(toFieldPath('/a~01')).toBe('a~1');
  });
});

describe('compileValidator', () => {
  const Line = Type.Object({ sku: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
  const Body = Type.Object(
    {
      items: Type.Array(Line, { minItems: 1 }),
      mode: Type.Union([Type.Literal('FAST'), Type.Literal('SLOW')]),
      note: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  );
  const validate = compileValidator(Body);

  it('returns the value when it is valid', () => {
    const body = { items: [{ sku: 'MUG', quantity: 1 }], mode: 'FAST' };
    expect(validate(body)).toEqual({ ok: true, value: body });
  });

  it('names every offending field by its path', () => {
    const result = validate({ items: [{ sku: 'MUG', quantity: 1 }, { sku: '', quantity: 1.5 }], mode: 'FAST' });
    expect(result).toEqual({
      ok: false,
      issues: [
        { field: 'items[1].sku', message: expect.any(String) },
        { field: 'items[1].quantity', message: 'expected integer' },
      ],
    });
  });

  it('says a missing field is required', () => {
    expect(validate({ items: [{ sku: 'MUG', quantity: 1 }] })).toEqual({ ok: false, issues: [{ field: 'mode', message: 'is required' }] });
  });

  it('says an unknown field is not allowed, at any depth', () => {
    expect(validate({ items: [{ sku: 'MUG', quantity: 1, colour: 'red' }], mode: 'FAST', extra: true })).toEqual({
      ok: false,
      issues: expect.arrayContaining([
        { field: 'items[0].colour', message: 'is not an allowed field' },
        { field: 'extra', message: 'is not an allowed field' },
      ]),
    });
  });

  it('reports a union that matches no branch once', () => {
    const result = validate({ items: [{ sku: 'MUG', quantity: 1 }], mode: 'WARP' });
    expect(result).toEqual({ ok: false, issues: [{ field: 'mode', message: expect.any(String) }] });
  });

  it('names the root with an empty path when the value is not an object', () => {
    expect(validate(null)).toEqual({ ok: false, issues: [{ field: '', message: 'expected object' }] });
  });
});
