import { nameBasedUuid } from './name-based-uuid';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

describe('name-based UUID', () => {
  it('matches the RFC 9562 version 5 UUID of a known name', () => {
    // uuid v5 of "www.example.com" in the DNS namespace, as every implementation computes it
    expect(nameBasedUuid(DNS_NAMESPACE, 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the same id for the same name and different ids for different names', () => {
    expect(nameBasedUuid(DNS_NAMESPACE, 'a')).toBe(nameBasedUuid(DNS_NAMESPACE, 'a'));
    expect(nameBasedUuid(DNS_NAMESPACE, 'a')).not.toBe(nameBasedUuid(DNS_NAMESPACE, 'b'));
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => nameBasedUuid('not-a-uuid', 'a')).toThrow(/namespace must be a UUID/);
  });
});
