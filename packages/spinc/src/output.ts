/**
 * Formatting for human output: ISO 8601 times, Go-style durations, progress
 * percentages that are never NaN, middle-shortened values and aligned tables.
 * Pure functions; `now` is always passed in.
 */
import { isFinalState, parseRfc3339, type StateValue, toNanos } from '@spincycle/protocol';

export type TimeZoneMode = 'utc' | 'local';

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad3 = (n: number) => String(n).padStart(3, '0');

/**
 * ISO 8601 to the second: `2019-04-02T18:39:26Z` in UTC, or with the local
 * offset (`2019-04-02T20:39:26+02:00`) for `local`. `millis` adds `.mmm`.
 */
export function formatTime(date: Date, tz: TimeZoneMode = 'utc', millis = false): string {
  const ms = millis ? `.${pad3(tz === 'utc' ? date.getUTCMilliseconds() : date.getMilliseconds())}` : '';
  if (tz === 'utc') {
    return `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}${ms}Z`;
  }
  const off = -date.getTimezoneOffset();
  const zone =
    off === 0
      ? 'Z'
      : `${off > 0 ? '+' : '-'}${pad2(Math.floor(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}T${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}${ms}${zone}`;
}

/** A wire time (RFC 3339 string, or null) as a Date; undefined when unset or unparsable. */
export function wireTime(value: string | null | undefined): Date | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const d = parseRfc3339(value);
  // The zero time of Go (0001-01-01) means "unset" too.
  if (!d || d.getUTCFullYear() <= 1) return undefined;
  return d;
}

/** A wire nanosecond time (number, bigint or string) as a Date; undefined when 0 or absent. */
export function nanosTime(value: unknown): Date | undefined {
  const ns = toNanos(value);
  if (ns <= 0n) return undefined;
  return new Date(Number(ns / 1_000_000n));
}

/**
 * Go-style duration rounded to whole seconds: `0s`, `59s`, `1m0s`, `1h2m3s`.
 * Negative or non-finite inputs are 0s (clock skew must not print nonsense).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 500) return '0s';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Seconds with 6 decimals, as `log` shows a job's runtime: `1.000595s`. */
export function formatSeconds(ns: bigint): string {
  if (ns < 0n) ns = 0n;
  const whole = ns / 1_000_000_000n;
  const micros = (ns % 1_000_000_000n) / 1000n;
  return `${whole}.${String(micros).padStart(6, '0')}s`;
}

/**
 * Progress in whole percent, never NaN: 0 jobs is 100% once the request has
 * finished and 0% before; otherwise round(finished/total*100) clamped to 0..100.
 */
export function progressPercent(finishedJobs: number, totalJobs: number, state: StateValue): number {
  const total = Number(totalJobs);
  const done = Number(finishedJobs);
  if (!Number.isFinite(total) || total <= 0) return isFinalState(state) ? 100 : 0;
  if (!Number.isFinite(done) || done <= 0) return 0;
  return Math.min(100, Math.max(0, Math.round((done / total) * 100)));
}

/** Shorten to `width` characters by cutting the middle and putting `..` there. */
export function shorten(value: string, width: number): string {
  if (width <= 0) return '';
  if (value.length <= width) return value;
  if (width <= 2) return value.slice(0, width);
  const keep = width - 2;
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return `${value.slice(0, head)}..${tail > 0 ? value.slice(value.length - tail) : ''}`;
}

export interface Column {
  header: string;
  /** Values longer than this are shortened in the middle with `..`. */
  max?: number;
  /** Minimum width (the original's fixed widths). */
  min?: number;
  align?: 'left' | 'right';
}

/**
 * An aligned table: each column as wide as its widest value (within min/max),
 * one space between columns, the last column unpadded. Returns lines.
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const cells = rows.map((row) =>
    columns.map((c, i) => (c.max === undefined ? (row[i] ?? '') : shorten(row[i] ?? '', c.max))),
  );
  const widths = columns.map((c, i) => {
    let w = Math.max(c.header.length, c.min ?? 0);
    for (const row of cells) w = Math.max(w, (row[i] ?? '').length);
    return c.max === undefined ? w : Math.min(w, Math.max(c.max, c.header.length));
  });
  const line = (values: readonly string[]) =>
    columns
      .map((c, i) => {
        const v = values[i] ?? '';
        const w = widths[i] ?? 0;
        if (c.align === 'right') return v.padStart(w);
        return i === columns.length - 1 ? v : v.padEnd(w);
      })
      .join(' ')
      .replace(/\s+$/, '');
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

/** `label: value` lines with labels right-aligned in a field of `width` (8, as the original). */
export function labelled(pairs: readonly (readonly [string, string])[], width = 8): string[] {
  return pairs.map(([label, value]) =>
    `${label.padStart(width)}: ${value}`.replace(/[ \t]+$/gm, '').replace(/\s+$/, ''),
  );
}

/** JSON for --json: indented, bigints (nanosecond times) written as exact integers. */
export function toJson(value: unknown): string {
  const BIG = '\u0000big:';
  const text = JSON.stringify(
    value === undefined ? null : value,
    (_k, v) => (typeof v === 'bigint' ? BIG + v.toString() : v),
    2,
  );
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}
