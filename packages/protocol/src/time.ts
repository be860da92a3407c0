/** Time helpers for the two wire time formats. */

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

const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parse an RFC 3339 time; `undefined` when the text is not one. The one
 * parser of wire times: every field is checked against the calendar (month
 * 13, February 30, 24:00 and 25:00 are no times, where `new Date` rolls some
 * of them over into the next day or month). A leap second (`:60`) is read as
 * the last millisecond of its minute.
 */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339_RE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offH = m[9] === undefined ? 0 : Number(m[9]);
  const offM = m[10] === undefined ? 0 : Number(m[10]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60 || offH > 23 || offM > 59) return undefined;
  const leap = second === 60;
  const ms = leap ? 999 : Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0-99 as they are.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, leap ? 59 : second, ms);
  const offsetMs = (m[8] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  const t = d.getTime() - offsetMs;
  return Number.isFinite(t) ? new Date(t) : undefined;
}

const originNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Current Unix time in nanoseconds (wall clock anchored once, monotonic afterwards). */
export function nowNanos(): bigint {
  return originNs + process.hrtime.bigint();
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
