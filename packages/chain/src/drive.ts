/**
 * Runs the builder's generators: synchronously while no job's `create` or
 * `serialize` returns a thenable, asynchronously from the first one on. A chain
 * of synchronous jobs so costs no promise per job.
 */

/** A build step: yields thenables (awaited by `drive`), returns its result. */
export type Step<T> = Generator<PromiseLike<unknown>, T, unknown>;

/** Runs a build generator: synchronously while nothing yields, asynchronously after the first thenable. */
export function drive<T>(gen: Step<T>): T | Promise<T> {
  const step = gen.next();
  return step.done ? step.value : resume(gen, step.value);
}

async function resume<T>(gen: Step<T>, first: PromiseLike<unknown>): Promise<T> {
  let pending = first;
  for (;;) {
    let value: unknown;
    let failed = false;
    let error: unknown;
    try {
      value = await pending;
    } catch (err) {
      failed = true;
      error = err;
    }
    const step = failed ? gen.throw(error) : gen.next(value);
    if (step.done) return step.value;
    pending = step.value;
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== undefined &&
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
