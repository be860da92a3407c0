/**
 * Go `time.ParseDuration` syntax (the original validated `retryWait` with it): an optional sign, then one or more
 * `<decimal><unit>` groups, units ns, us/µs/μs, ms, s, m, h; `0` alone is valid.
 */
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

export function isValidDuration(s: string): boolean {
  if (s === '0' || s === '+0' || s === '-0') return true;
  return DURATION.test(s);
}
