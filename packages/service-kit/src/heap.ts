/**
 * Heap growth. After each full GC, V8 lets the heap grow to 1.5–4× what survived
 * before it collects again, so a service that has just built (RM) or run (JR) a
 * chain of thousands of jobs keeps that much garbage, and the RSS, until the next
 * full GC. A smaller growing factor keeps the RSS near what the service really
 * holds (RM after the 2,000-host benchmark: ~155 MB instead of ~185 MB) at the
 * price of a few more full GCs, which the benchmarks do not show.
 */
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 30;
const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * Set V8's heap growing factor to 1 + `percent`/100 unless the process was started
 * with its own `--heap-growing-percent` (node's command line wins). Returns the
 * percent set, or undefined when the command line's value was kept.
 */
export function limitHeapGrowth(
  percent = DEFAULT_HEAP_GROWING_PERCENT,
  execArgv: readonly string[] = process.execArgv,
): number | undefined {
  if (execArgv.some((a) => FLAG.test(a))) return undefined;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
