import { payloads } from './order-notifications';

describe('order change notifications', () => {
  it('joins the order ids of a batch into one payload when they fit', () => {
    expect(payloads(['a', 'b', 'c'])).toEqual(['a,b,c']);
    expect(payloads([])).toEqual([]);
  });

  it('splits a large batch into payloads under PostgreSQL’s 8000-byte limit, losing no id', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `0000000${i}-aaaa-bbbb-cccc-ddddeeeeffff`.slice(-36));
    const out = payloads(ids);
    expect(out.length).toBeGreaterThan(1);
    for (const p of out) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    expect(out.flatMap((p) => p.split(','))).toEqual(ids);
  });
});
