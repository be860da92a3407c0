/**
 * The one polling helper of the tests: waits until `probe` gives a value. Tests
 * await the thing they expect instead of sleeping a fixed time.
 */

export interface UntilOptions {
  /** Give up after this long (default 15 s); the error names `what`. */
  timeoutMs?: number;
  /** Time between probes (default 25 ms). */
  everyMs?: number;
  /** A probe that throws counts as "not yet" (for a service that is restarting). */
  retryErrors?: boolean;
}

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and
 * returns that. `options` may be just the timeout in ms.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: number | UntilOptions = {},
): Promise<T> {
  const {
    timeoutMs = 15_000,
    everyMs = 25,
    retryErrors = false,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await probe();
    } catch (err) {
      if (!retryErrors) throw err;
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
