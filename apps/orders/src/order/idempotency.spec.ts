import { canonicalJson, requestHashOf } from './idempotency';

const body = {
  items: [
    { sku: 'MUG-01', quantity: 2 },
    { sku: 'TEE-02', quantity: 1 },
  ],
  payment: { token: 'tok_visa' },
  shippingAddress: { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
};

const reordered = {
  shippingAddress: { country: 'GB', postalCode: 'SW1Y 4JH', city: 'London', line1: '12 St James Sq', name: 'Ada Lovelace' },
  payment: { token: 'tok_visa' },
  items: [
    { quantity: 2, sku: 'MUG-01' },
    { quantity: 1, sku: 'TEE-02' },
  ],
};

describe('the canonical form of an idempotent request', () => {
  it('is the same for the same JSON body with its keys reordered, at every depth', () => {
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(body));
    expect(canonicalJson(reordered)).toBe(canonicalJson(body));
    expect(requestHashOf(reordered)).toBe(requestHashOf(body));
  });

  it('sorts keys and keeps array order, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: true, c: null }], é: 'x' })).toBe('{"a":[3,{"c":null,"d":true}],"b":1,"é":"x"}');
  });

  it('tells apart bodies that differ in a value or in the order of their items', () => {
    expect(requestHashOf({ ...body, payment: { token: 'tok_declined' } })).not.toBe(requestHashOf(body));
    expect(requestHashOf({ ...body, items: [...body.items].reverse() })).not.toBe(requestHashOf(body));
  });

  it('is valid JSON that parses back to an equal value', () => {
    expect(JSON.parse(canonicalJson(reordered))).toEqual(body);
  });
});
