import { describe, expect, it } from 'vitest';
import { parseJson, stringifyJson } from '../src/json.js';

describe('lossless JSON', () => {
  it('keeps nanosecond integers exact both ways', () => {
    const text = '{"startedAt":1554230366094196500,"try":1,"x":1.5}';
    const v = parseJson(text) as { startedAt: bigint; try: number; x: number };
    expect(v.startedAt).toBe(1554230366094196500n);
    expect(v.try).toBe(1);
    expect(stringifyJson(v)).toBe(text);
  });
});

describe('stringifyJson', () => {
  it('passes RawJson text through untouched and writes bigints as integers', async () => {
    const { RawJson } = await import('../src/json.js');
    expect(stringifyJson(new RawJson('{"a":1}'))).toBe('{"a":1}');
    expect(stringifyJson({ a: [1n, 2], b: 'x' })).toBe('{"a":[1,2],"b":"x"}');
  });
});

describe('parseJsonText', () => {
  it('finds every integer too big for a double wherever JSON puts a number, and leaves strings alone', async () => {
    const { parseJsonText } = await import('../src/json.js');
    expect(parseJsonText('1700000000123456789')).toBe(1700000000123456789n);
    expect(parseJsonText(' -17000000001234567890 ')).toBe(-17000000001234567890n);
    expect(parseJsonText('[1, 1700000000123456789]')).toEqual([1, 1700000000123456789n]);
    expect(parseJsonText('{"a": {"b" :\n\t1700000000123456789}}')).toEqual({
      a: { b: 1700000000123456789n },
    });
    // Strings that look like numbers stay strings (a decimal-string time, a digit run after a colon).
    expect(parseJsonText('{"t":"1700000000123456789","u":"x:1700000000123456789"}')).toEqual({
      t: '1700000000123456789',
      u: 'x:1700000000123456789',
    });
    expect(parseJsonText('{"safe":1234567890123456,"f":0.12345678901234567}')).toEqual({
      safe: 1234567890123456,
      // biome-ignore lint/correctness/noPrecisionLoss: the same literal JSON.parse reads; that is the point
      f: 0.12345678901234567,
    });
    expect(() => parseJsonText('{"a":')).toThrow();
  });
});

describe('stringifyJson and strings that look like its bigint marker', () => {
  it('keeps a caller\'s "\\u0000big:<digits>" strings (values, keys, after a quote) next to bigints (a value came back a number, a key broke the JSON)', () => {
    const values = [
      { count: 12345678901234567890n, host: '\u0000big:1' },
      { big: 20000000000000000000n, '\u0000big:7': 'x' },
      { big: [30000000000000000000n, 40000000000000000000n], s: 'x"\u0000big:1' },
      { jobs: { '\u0000big:1': { data: { n: 99999999999999999999n } } } },
    ];
    for (const v of values) expect(parseJson(stringifyJson(v))).toEqual(v);
    expect(stringifyJson(values[0])).toBe('{"count":12345678901234567890,"host":"\\u0000big:1"}');
    // Without a bigint the text is JSON.stringify's.
    expect(stringifyJson({ s: '\u0000big:1' })).toBe(JSON.stringify({ s: '\u0000big:1' }));
  });
});
