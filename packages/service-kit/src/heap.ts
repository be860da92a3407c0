/**
 * Heap growth. After each full GC, V8 lets the heap grow to 1.5–4× what survived
 * before it collects again, so a service that has just built (RM) or run (JR) a
 * chain of thousands of jobs keeps that much garbage, and the RSS, until the next
 * full GC. A smaller growing factor keeps the RSS near what the service really
 * holds (RM after the 2,000-host benchmark: ~155 MB instead of ~185 MB) at the
 * price of a few more full GCs, which the benchmarks do not show.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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

let gc: (() => void) | null | undefined;

/**
 * A full garbage collection now. V8 collects when a process allocates, so a
 * service that goes quiet right after a big piece of work (a JR that has just
 * run 140,000 jobs) keeps that work's garbage, and the RSS, until it gets busy
 * again: ~180 MB of a 200 MB heap in the 20,000-host benchmark. One full GC is
 * quick when little is live (it marks only what is). The collector is V8's
 * `gc`, exposed to a new context. False when V8 refused it.
 */
export function collectGarbage(): boolean {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
  return typeof gc === 'function';
}
