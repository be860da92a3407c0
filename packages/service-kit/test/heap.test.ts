/**
 * limitHeapGrowth: the command line's own value wins, and the factor really
 * changes how far V8 lets the heap grow (measured in child processes, which
 * run the same allocation pattern with a small and a large factor).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { collectGarbage, DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth } from '../src/heap.js';

const heapJs = fileURLToPath(new URL('../dist/heap.js', import.meta.url));

/** Largest heap (MB) of a child that builds and drops 30 batches of 20,000 small objects. */
function peakHeapMb(percent: number): number {
  const script = `
    import { limitHeapGrowth } from ${JSON.stringify(heapJs)};
    import { getHeapStatistics } from 'node:v8';
    limitHeapGrowth(${percent});
    const keep = [];
    let max = 0;
    for (let round = 0; round < 30; round++) {
      const live = [];
      for (let i = 0; i < 20000; i++) live.push({ id: 'job-' + round + '-' + i, args: { a: i, b: [i, i + 1] } });
      keep.push(live);
      if (keep.length > 3) keep.shift();
      await new Promise((r) => setImmediate(r));
      max = Math.max(max, getHeapStatistics().total_heap_size);
    }
    console.log(max / 1048576);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

describe('limitHeapGrowth', () => {
  it("keeps node's own --heap-growing-percent", () => {
    expect(limitHeapGrowth(30, ['--heap-growing-percent=80'])).toBeUndefined();
    expect(limitHeapGrowth(30, ['--heap_growing_percent', '80'])).toBeUndefined();
  });

  it('sets the default factor otherwise', () => {
    expect(limitHeapGrowth(undefined, ['--enable-source-maps'])).toBe(DEFAULT_HEAP_GROWING_PERCENT);
  });

  it('a small factor keeps the heap smaller than a large one', () => {
    const small = peakHeapMb(10);
    const large = peakHeapMb(300);
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(large * 0.85);
  });
});

describe('collectGarbage', () => {
  it('collects what nothing holds any more: the heap in use drops', () => {
    let garbage: unknown[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({
      id: `job-${i}`,
      n: [i],
    }));
    const before = getHeapStatistics().used_heap_size;
    expect(garbage.length).toBe(300_000);
    garbage = undefined;
    expect(collectGarbage()).toBe(true);
    // 300,000 objects with a string and an array each: well over 20 MB.
    expect(before - getHeapStatistics().used_heap_size).toBeGreaterThan(20 * 1024 * 1024);
  });
});
