/** GcAfterBigChains: one collection after big chains end, none for small ones. */
import { describe, expect, it } from 'vitest';
import { GcAfterBigChains } from '../src/idle-gc.js';

describe('GcAfterBigChains', () => {
  it('collects once after big chains end together, and not for small chains', async () => {
    let collections = 0;
    let collected!: () => void;
    const done = new Promise<void>((r) => {
      collected = r;
    });
    const gc = new GcAfterBigChains({
      minJobs: 100,
      delayMs: 0,
      collect: () => {
        collections++;
        collected();
      },
    });
    gc.chainDone(99);
    gc.chainDone(100);
    gc.chainDone(5000);
    await done;
    expect(collections).toBe(1);
    gc.stop();
  });
});
