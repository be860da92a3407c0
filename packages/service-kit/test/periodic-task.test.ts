import { describe, expect, it } from 'vitest';
import { PeriodicTask } from '../src/periodic-task.js';

/** A promise with its resolve function exposed. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('PeriodicTask', () => {
  it('runs again after each run, and stop() waits for the run in progress', async () => {
    const runs: number[] = [];
    const started = deferred();
    const release = deferred();
    let ended = false;
    const task = new PeriodicTask({
      intervalMs: 1,
      firstDelayMs: 0,
      run: async () => {
        runs.push(runs.length);
        if (runs.length === 3) {
          started.resolve();
          await release.promise;
          ended = true;
        }
      },
      onError: () => undefined,
    });
    task.start();
    await started.promise;
    expect(task.running).toBe(true);
    const stopping = task.stop();
    expect(task.running).toBe(false);
    release.resolve();
    await stopping;
    expect(ended).toBe(true);
    expect(runs).toEqual([0, 1, 2]);
  });

  it('passes what a run throws to onError and goes on', async () => {
    const errors: unknown[] = [];
    const second = deferred();
    let n = 0;
    const task = new PeriodicTask({
      intervalMs: () => 1,
      firstDelayMs: 0,
      run: async () => {
        n++;
        if (n === 1) throw new Error('boom');
        second.resolve();
      },
      onError: (err) => errors.push(err),
    });
    task.start();
    await second.promise;
    await task.stop();
    expect((errors[0] as Error).message).toBe('boom');
    expect(n).toBeGreaterThanOrEqual(2);
  });

  it('stop() before the first run: the run never happens', async () => {
    let ran = false;
    const task = new PeriodicTask({
      intervalMs: 60_000,
      firstDelayMs: 0,
      run: async () => {
        ran = true;
      },
      onError: () => undefined,
    });
    task.start();
    await task.stop();
    // The first run was due on the next turn of the event loop: let it pass.
    await new Promise((r) => setImmediate(r));
    await task.idle();
    expect(ran).toBe(false);
  });
});
