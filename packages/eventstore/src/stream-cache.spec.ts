import { StreamCache, STREAM_CACHE_MAX_EVENTS } from './stream-cache';
import type { AnyEvent } from '@orderflow/contracts';

const events = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `e${i + 1}` }) as unknown as AnyEvent);

describe('StreamCache', () => {
  it('keeps the newest version of a stream and never goes back to an older one', () => {
    const cache = new StreamCache(10);
    cache.set('s', { version: 2, events: events(2) });
    cache.set('s', { version: 1, events: events(1) });
    expect(cache.get('s')?.version).toBe(2);
    cache.set('s', { version: 3, events: events(3) });
    expect(cache.get('s')?.version).toBe(3);
  });

  it('drops the least recently used stream past its size, and does not keep long streams', () => {
    const cache = new StreamCache(2);
    cache.set('a', { version: 1, events: events(1) });
    cache.set('b', { version: 1, events: events(1) });
    cache.get('a');
    cache.set('c', { version: 1, events: events(1) });
    expect([cache.get('a')?.version, cache.get('b'), cache.get('c')?.version]).toEqual([1, undefined, 1]);
    cache.set('a', { version: STREAM_CACHE_MAX_EVENTS + 1, events: events(STREAM_CACHE_MAX_EVENTS + 1) });
    expect(cache.get('a')).toBeUndefined();
  });
});
