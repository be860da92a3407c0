/**
 * Go `time.ParseDuration` syntax (the original validated `retryWait` with it): an optional sign, then one or more
 * `<decimal><unit>` groups, units ns, us/µs/μs, ms, s, m, h; `0` alone is valid.
 */
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 36e5,
};

export function isValidDuration(s: string): boolean {
  if (s === '0' || s === '+0' || s === '-0') return true;
  return DURATION.test(s);
}

/** Milliseconds of a valid duration (see isValidDuration); NaN for anything else. */
export function durationMs(s: string): number {
  if (!isValidDuration(s)) return Number.NaN;
  let ms = 0;
  for (const m of s.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  return s.startsWith('-') ? -ms : ms;
}
