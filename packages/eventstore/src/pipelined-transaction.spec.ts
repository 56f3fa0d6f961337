import { escapeLiteral, inlined } from './pipelined-transaction';

describe('inlined', () => {
  it('writes each $n as its value, $10 apart from $1, with casts kept', () => {
    const parameters = Array.from({ length: 10 }, (_, i) => `v${i + 1}`);
    expect(inlined('SELECT $1::text, $10, $2', parameters)).toBe("SELECT 'v1'::text, 'v10', 'v2'");
  });

  it('writes values as node-postgres sends them as text: null, numbers, booleans, dates, JSON, arrays', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const sql = inlined('SELECT $1, $2, $3, $4, $5::jsonb, $6::text[], $7::int[]', [null, 42, true, at, { a: "it's" }, ['x', null, 'a"b'], [1, 2]]);
    expect(sql).toContain("SELECT NULL, '42', 'true', '");
    expect(sql).toContain(`'{"a":"it''s"}'::jsonb`);
    // The array's element escape is a backslash, so the literal is an E string with it doubled.
    expect(sql).toContain(` E'{"x",NULL,"a\\\\"b"}'::text[]`);
    expect(sql).toContain(`'{"1","2"}'::int[]`);
  });

  it('leaves quoted literals and identifiers alone, $ signs in them included', () => {
    expect(inlined(`SELECT '$1', "a$1", 'it''s' FROM t WHERE x = $1`, ['y'])).toBe(`SELECT '$1', "a$1", 'it''s' FROM t WHERE x = 'y'`);
  });

  it('refuses what it cannot write safely: several statements, comments, dollar quoting, backslashes, binary values, unknown placeholders', () => {
    expect(inlined('SELECT 1; SELECT 2', [])).toBeUndefined();
    expect(inlined('SELECT $1 -- note', ['a'])).toBeUndefined();
    expect(inlined('SELECT $1 /* note */', ['a'])).toBeUndefined();
    expect(inlined('SELECT $$text$$', [])).toBeUndefined();
    expect(inlined("SELECT E'\\n'", [])).toBeUndefined();
    expect(inlined('SELECT $1', [Buffer.from('x')])).toBeUndefined();
    expect(inlined('SELECT $2', ['a'])).toBeUndefined();
    expect(inlined("SELECT 'unterminated", [])).toBeUndefined();
  });
});

describe('escapeLiteral', () => {
  it('doubles quotes, and writes a backslash in an E string', () => {
    expect(escapeLiteral("it's")).toBe("'it''s'");
    expect(escapeLiteral('a\\b')).toBe(" E'a\\\\b'");
    expect(escapeLiteral("a\\'b")).toBe(" E'a\\\\''b'");
  });
});
