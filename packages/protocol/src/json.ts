/**
 * JSON that keeps nanosecond timestamps exact. `JSON.parse` turns integers above
 * 2^53 into imprecise doubles, so wire bodies that carry Unix-nanosecond times
 * are parsed with lossless-json and written with bigints as plain JSON integers.
 */
import { isSafeNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

function parseNumber(text: string): number | bigint {
  // Only integers that do not fit a double become bigints; everything else stays a number.
  if (!isSafeNumber(text) && /^-?\d+$/.test(text)) return BigInt(text);
  return Number(text);
}

/** Parse JSON text; integers beyond 2^53 come back as bigint. */
export function parseJson(text: string): unknown {
  return losslessParse(text, null, parseNumber);
}

/**
 * Whether JSON text may hold an integer token too big for a double: 16 or
 * more digits right after `[`, `,`, `:` (or at the start), where JSON numbers
 * stand. Conservative: a string value such as `"a:1234567890123456"` counts
 * too; a nanosecond time sent as a decimal string does not.
 */
const MAY_HOLD_BIG = /(?:^|[[,:])\s*-?\d{16}/;

/** Parse JSON text as `parseJson` does, with plain `JSON.parse` (much faster) when no integer can be too big for it. */
export function parseJsonText(text: string): unknown {
  return MAY_HOLD_BIG.test(text) ? parseJson(text) : JSON.parse(text);
}

/**
 * A body that is already JSON text (an archived chain, a stored SJC): the
 * clients send it as is, with no second serialisation or deep copy.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

/** Stringify with bigints written as JSON integers. */
export function stringifyJson(value: unknown): string {
  if (value instanceof RawJson) return value.json;
  try {
    // Fast path: most values hold no bigint and plain JSON.stringify is several times faster.
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  // A bigint (JSON.stringify refuses them): lossless-json writes it as a plain integer. Rare:
  // nanosecond times travel as decimal strings.
  return losslessStringify(value) as string;
}

/** Coerce a wire nanosecond value (number, bigint or decimal string) to bigint. */
export function toNanos(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return 0n;
}
