import { createHash } from 'node:crypto';

/**
 * A version 5 (name-based, SHA-1) UUID of `name` in `namespace` (RFC 9562): the
 * same inputs always give the same id, so a handler that derives ids from the event
 * it reacts to stays a function of its inputs, and a redelivered event makes the
 * same id again.
 */
export function nameBasedUuid(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new RangeError(`namespace must be a UUID (got "${namespace}")`);
  const hash = createHash('sha1').update(ns).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
