/** Time helpers for the two wire time formats (reference §1.3). */

/** RFC 3339 in UTC with trailing fractional zeros trimmed: `2019-04-02T18:39:26Z`, `...26.5Z`. */
export function toRfc3339(date: Date): string {
  const iso = date.toISOString(); // always ...ss.mmmZ
  const [whole, frac = ''] = iso.slice(0, -1).split('.');
  const trimmed = frac.replace(/0+$/, '');
  return trimmed ? `${whole}.${trimmed}Z` : `${whole}Z`;
}

export function toRfc3339OrNull(date: Date | null | undefined): string | null {
  return date ? toRfc3339(date) : null;
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parse an RFC 3339 time; `undefined` when the text is not one. */
export function parseRfc3339(text: string): Date | undefined {
  if (!RFC3339_RE.test(text)) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Current Unix time in nanoseconds (wall clock anchored once, monotonic afterwards). */
export function nowNanos(): bigint {
  return originNs + process.hrtime.bigint();
}

export function nanosToDate(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const DURATION_RE = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Whether text is a Go-style duration (`500ms`, `1h30m`, `1.5s`, `0`). */
export function isDuration(text: string): boolean {
  return text === '0' || text === '+0' || text === '-0' || DURATION_RE.test(text);
}

/** Go-style duration to milliseconds; `""` is 0; throws on bad syntax. */
export function parseDurationMs(text: string): number {
  if (text === '' || text === '0' || text === '+0' || text === '-0') return 0;
  if (!DURATION_RE.test(text)) throw new Error(`invalid duration "${text}"`);
  let ns = 0;
  for (const m of text.matchAll(PART_RE)) ns += Number(m[1]) * (UNIT_NS[m[2] as string] ?? 0);
  return (text.startsWith('-') ? -ns : ns) / 1e6;
}
