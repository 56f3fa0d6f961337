import type { AnyEvent } from '@orderflow/contracts';
import type { DataSource } from 'typeorm';

/** A stream as committed: every event from version 1 to `version`. */
export interface CommittedStream {
  version: number;
  events: readonly AnyEvent[];
}

/** Streams kept per DataSource (about 10 kB each for an order's), the least recently used dropped first. */
export const STREAM_CACHE_SIZE = 2_000;
/** Longer streams are not kept (a product's is read by its newest event instead). */
export const STREAM_CACHE_MAX_EVENTS = 64;

/**
 * The streams a process read whole or wrote lately, as committed, so a consumer
 * batch reads only what was appended since (by another instance, in the rare
 * case): the orders service read each order's whole stream again for every
 * outcome event, most of its database reads. Events are only ever appended and
 * an entry holds only committed events (read from the database, or appended by a
 * transaction after its COMMIT succeeded), so an entry is at worst behind, never
 * wrong; what it lacks is read.
 */
export class StreamCache {
  private readonly entries = new Map<string, CommittedStream>();

  constructor(private readonly size = STREAM_CACHE_SIZE) {}

  get(streamId: string): CommittedStream | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    return entry;
  }

  /** Keeps `stream` unless an entry at least as new is there already. */
  set(streamId: string, stream: CommittedStream): void {
    const current = this.entries.get(streamId);
    if (current && current.version >= stream.version) return;
    this.entries.delete(streamId);
    if (stream.events.length > STREAM_CACHE_MAX_EVENTS) return;
    this.entries.set(streamId, stream);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }
}

const caches = new WeakMap<DataSource, StreamCache>();

export function streamCacheOf(dataSource: DataSource): StreamCache {
  let cache = caches.get(dataSource);
  if (!cache) {
    cache = new StreamCache();
    caches.set(dataSource, cache);
  }
  return cache;
}
