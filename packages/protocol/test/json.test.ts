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
