/**
 * MicroBatcher: batching logic only. `run` is an in-process function whose
 * batches the test ends by hand, so every grouping is deterministic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MicroBatcher, type MicroBatcherOptions, type Settled } from '../src/micro-batcher.js';

/** One call of `run`: its items, and how the test ends it. */
interface Call<T> {
  items: T[];
  finish(results: Settled<string>[]): void;
  fail(err: unknown): void;
}

/** A batcher whose `run` records each call and waits for the test to end it. */
function harness<T>(opts: Omit<MicroBatcherOptions<T, string>, 'run'> = {}) {
  const calls: Call<T>[] = [];
  let running = 0;
  let maxRunning = 0;
  const batcher = new MicroBatcher<T, string>({
    ...opts,
    run: (items) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<Settled<string>[]>((resolve, reject) => {
        calls.push({
          items: [...items],
          finish: (r) => {
            running--;
            resolve(r);
          },
          fail: (e) => {
            running--;
            reject(e);
          },
        });
      });
    },
  });
  return {
    batcher,
    calls,
    get maxRunning() {
      return maxRunning;
    },
    /** The `index`th call (fails the test when there is none). */
    call(index: number): Call<T> {
      const c = calls[index];
      if (!c) throw new Error(`no call ${index}; calls so far: ${JSON.stringify(calls.map((x) => x.items))}`);
      return c;
    },
  };
}

/** Every item succeeds with `r:<item>`. */
const allOk = <T>(items: T[]): Settled<string>[] => items.map((i) => ({ ok: true, value: `r:${String(i)}` }));

/** Let settled promises and the batcher's follow-up pumps run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** How a promise ended, without an unhandled rejection in the meantime. */
function outcome<R>(p: Promise<R>): Promise<Settled<R>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** The error of a failed outcome (fails the test for a success). */
function errorOf(o: Settled<unknown> | undefined): unknown {
  if (!o || o.ok) throw new Error(`expected a failure, got ${JSON.stringify(o)}`);
  return o.error;
}

describe('MicroBatcher', () => {
  it('runs a lone item at once, alone, with no timer holding it back', async () => {
    const h = harness<number>();
    const p = h.batcher.submit(1);
    // run() was called synchronously inside submit().
    expect(h.calls.map((c) => c.items)).toEqual([[1]]);
    expect(h.batcher.waiting).toBe(0);
    h.call(0).finish(allOk([1]));
    await expect(p).resolves.toBe('r:1');
    await settle();
    const q = h.batcher.submit(2);
    expect(h.calls.map((c) => c.items)).toEqual([[1], [2]]);
    h.call(1).finish(allOk([2]));
    await expect(q).resolves.toBe('r:2');
  });

  it('groups the items submitted while a batch is in flight into the next batch, in order, each with its own result', async () => {
    const h = harness<number>();
    const first = h.batcher.submit(1);
    const rest = [2, 3, 4, 5, 6].map((i) => h.batcher.submit(i));
    expect(h.calls).toHaveLength(1);
    expect(h.batcher.waiting).toBe(5);
    h.call(0).finish(allOk([1]));
    await settle();
    expect(h.calls.map((c) => c.items)).toEqual([[1], [2, 3, 4, 5, 6]]);
    expect(h.batcher.waiting).toBe(0);
    h.call(1).finish([2, 3, 4, 5, 6].map((i) => ({ ok: true, value: `v${i * 10}` })));
    expect(await first).toBe('r:1');
    expect(await Promise.all(rest)).toEqual(['v20', 'v30', 'v40', 'v50', 'v60']);
    // Nothing left over: no further call.
    await settle();
    expect(h.calls).toHaveLength(2);
  });

  it('splits waiting items into batches of at most maxItems', async () => {
    const h = harness<number>({ maxItems: 3 });
    const all = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => h.batcher.submit(i));
    for (let i = 0; i < 4; i++) {
      h.call(i).finish(allOk(h.call(i).items));
      await settle();
    }
    expect(h.calls.map((c) => c.items)).toEqual([[1], [2, 3, 4], [5, 6, 7], [8]]);
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `r:${i}`));
  });

  it('splits waiting items by maxSize (a batch may reach it exactly)', async () => {
    const h = harness<string>({ sizeOf: (s) => s.length, maxSize: 10 });
    const items = ['x', 'aaaa', 'bbbb', 'cc', 'dddddd', 'e'];
    const all = items.map((s) => h.batcher.submit(s));
    for (let i = 0; i < 3; i++) {
      h.call(i).finish(allOk(h.call(i).items));
      await settle();
    }
    expect(h.calls.map((c) => c.items)).toEqual([['x'], ['aaaa', 'bbbb', 'cc'], ['dddddd', 'e']]);
    expect(await Promise.all(all)).toEqual(items.map((s) => `r:${s}`));
  });

  it('sends an item larger than maxSize alone, wherever it is in the queue', async () => {
    const big = 'B'.repeat(25);
    const h = harness<string>({ sizeOf: (s) => s.length, maxSize: 10 });
    // Idle: the big item goes at once.
    const lone = h.batcher.submit(big);
    expect(h.calls.map((c) => c.items)).toEqual([[big]]);
    // Queued behind it: small, big, small, then big first in a batch followed by a small one.
    const rest = ['aa', big, 'bb', big, 'cc'].map((s) => h.batcher.submit(s));
    for (let i = 0; i < 6; i++) {
      h.call(i).finish(allOk(h.call(i).items));
      await settle();
    }
    expect(h.calls.map((c) => c.items)).toEqual([[big], ['aa'], [big], ['bb'], [big], ['cc']]);
    expect(await lone).toBe(`r:${big}`);
    expect(await Promise.all(rest)).toEqual(['aa', big, 'bb', big, 'cc'].map((s) => `r:${s}`));
  });

  it('rejects only the item whose result is a failure, with its own error', async () => {
    const h = harness<number>();
    const head = h.batcher.submit(0);
    const ps = [1, 2, 3].map((i) => outcome(h.batcher.submit(i)));
    h.call(0).finish(allOk([0]));
    await settle();
    const boom = new Error('item 2 refused');
    h.call(1).finish([
      { ok: true, value: 'one' },
      { ok: false, error: boom },
      { ok: true, value: 'three' },
    ]);
    expect(await head).toBe('r:0');
    const [a, b, c] = await Promise.all(ps);
    expect(a).toEqual({ ok: true, value: 'one' });
    expect(errorOf(b)).toBe(boom);
    expect(c).toEqual({ ok: true, value: 'three' });
  });

  it('rejects every item of a batch whose run() rejects, and still runs the next batch', async () => {
    const h = harness<number>();
    const head = h.batcher.submit(0);
    const doomed = [1, 2, 3].map((i) => outcome(h.batcher.submit(i)));
    h.call(0).finish(allOk([0]));
    await settle();
    expect(h.call(1).items).toEqual([1, 2, 3]);
    // Items that arrive while the doomed batch runs wait for the next one.
    const later = [4, 5].map((i) => h.batcher.submit(i));
    const down = new Error('database down');
    h.call(1).fail(down);
    await settle();
    expect(h.call(2).items).toEqual([4, 5]);
    h.call(2).finish(allOk([4, 5]));
    expect(await head).toBe('r:0');
    for (const o of await Promise.all(doomed)) expect(errorOf(o)).toBe(down);
    expect(await Promise.all(later)).toEqual(['r:4', 'r:5']);
  });

  it('treats a run() that throws synchronously like one that rejects', async () => {
    const bad = new Error('sync throw');
    let calls = 0;
    const batcher = new MicroBatcher<number, number>({
      run: (items) => {
        calls++;
        if (calls === 1) throw bad;
        return Promise.resolve(items.map((i) => ({ ok: true as const, value: i * 2 })));
      },
    });
    const first = outcome(batcher.submit(1));
    expect(await first).toEqual({ ok: false, error: bad });
    await settle();
    expect(await batcher.submit(21)).toBe(42);
  });

  it('with maxInFlight 2 runs two batches at once, and a third waits for either to end', async () => {
    const h = harness<number>({ maxInFlight: 2 });
    const p1 = h.batcher.submit(1);
    const p2 = h.batcher.submit(2);
    // Both went at once, alone, concurrently.
    expect(h.calls.map((c) => c.items)).toEqual([[1], [2]]);
    const waiting = [3, 4].map((i) => h.batcher.submit(i));
    expect(h.calls).toHaveLength(2);
    expect(h.batcher.waiting).toBe(2);
    // The second batch ends first; the waiting items go while the first is still running.
    h.call(1).finish(allOk([2]));
    await settle();
    expect(h.calls.map((c) => c.items)).toEqual([[1], [2], [3, 4]]);
    const p5 = h.batcher.submit(5);
    // Two running again (1 and [3,4]): 5 waits.
    expect(h.calls).toHaveLength(3);
    h.call(2).finish(allOk([3, 4]));
    await settle();
    expect(h.call(3).items).toEqual([5]);
    h.call(3).finish(allOk([5]));
    h.call(0).finish(allOk([1]));
    expect(await Promise.all([p1, p2, ...waiting, p5])).toEqual(['r:1', 'r:2', 'r:3', 'r:4', 'r:5']);
    expect(h.maxRunning).toBe(2);
  });

  it('rejects the items a handler gave no result for, and resolves the others', async () => {
    const h = harness<number>();
    const head = h.batcher.submit(0);
    const ps = [1, 2, 3].map((i) => outcome(h.batcher.submit(i)));
    h.call(0).finish(allOk([0]));
    await settle();
    h.call(1).finish([{ ok: true, value: 'only one' }]);
    expect(await head).toBe('r:0');
    const [a, b, c] = await Promise.all(ps);
    expect(a).toEqual({ ok: true, value: 'only one' });
    expect(String(errorOf(b))).toMatch(/no result for item 1 of 3/);
    expect(String(errorOf(c))).toMatch(/no result for item 2 of 3/);
    // The batcher goes on.
    const next = h.batcher.submit(9);
    await settle();
    h.call(2).finish(allOk([9]));
    expect(await next).toBe('r:9');
  });

  it('under any interleaving: batches keep submission order and the limits, and every item gets its own result', async () => {
    type Op = { kind: 'submit'; sizes: number[] } | { kind: 'end'; pick: number; fail: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('submit' as const),
        sizes: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
      }),
      fc.record({ kind: fc.constant('end' as const), pick: fc.nat(), fail: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(op, { maxLength: 40 }),
        async (maxInFlight, maxItems, ops) => {
          const maxSize = 10;
          const h = harness<{ n: number; size: number }>({
            maxInFlight,
            maxItems,
            maxSize,
            sizeOf: (x) => x.size,
          });
          const submitted: number[] = [];
          const results: Array<Promise<Settled<string>>> = [];
          const expected = new Map<number, Settled<string>>();
          const open = new Set<number>();
          const endCall = (index: number, fail: boolean) => {
            const c = h.call(index);
            open.delete(index);
            if (fail) {
              const err = new Error(`call ${index} failed`);
              for (const it of c.items) expected.set(it.n, { ok: false, error: err });
              c.fail(err);
            } else {
              for (const it of c.items) expected.set(it.n, { ok: true, value: `r${it.n}` });
              c.finish(c.items.map((it) => ({ ok: true, value: `r${it.n}` })));
            }
          };
          for (const o of ops) {
            const before = h.calls.length;
            if (o.kind === 'submit') {
              for (const size of o.sizes) {
                const n = submitted.length;
                submitted.push(n);
                results.push(outcome(h.batcher.submit({ n, size })));
              }
            } else {
              const list = [...open];
              if (list.length > 0) endCall(list[o.pick % list.length] as number, o.fail);
            }
            await settle();
            for (let i = before; i < h.calls.length; i++) open.add(i);
          }
          // Drain: end whatever runs until nothing is left.
          while (open.size > 0) {
            endCall(Math.min(...open), false);
            const before = h.calls.length;
            await settle();
            for (let i = before; i < h.calls.length; i++) open.add(i);
          }
          expect(h.batcher.waiting).toBe(0);
          expect(h.maxRunning).toBeLessThanOrEqual(maxInFlight);
          // Batches are taken from the front of the queue: their concatenation is the submission order.
          expect(h.calls.flatMap((c) => c.items.map((x) => x.n))).toEqual(submitted);
          for (const c of h.calls) {
            expect(c.items.length).toBeGreaterThanOrEqual(1);
            expect(c.items.length).toBeLessThanOrEqual(maxItems);
            const total = c.items.reduce((s, x) => s + x.size, 0);
            if (c.items.length > 1) expect(total).toBeLessThanOrEqual(maxSize);
          }
          const got = await Promise.all(results);
          got.forEach((g, n) => {
            expect(g).toEqual(expected.get(n));
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});
