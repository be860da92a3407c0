import { State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { JobArgError } from '../src/errors.js';
import { make, viaWire } from './helpers.js';

const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

describe('sleep: args', () => {
  it('takes milliseconds as a number, a numeric string or a duration string', async () => {
    for (const [value, ms] of [
      [150, 150],
      ['150', 150],
      [' 20 ', 20],
      ['1.5s', 1500],
      ['250ms', 250],
      [0, 0],
    ] as const) {
      const job = make('sleep');
      await job.create({ duration: value });
      expect(decode(await job.serialize())).toEqual({ duration: ms });
    }
  });

  it('rejects anything else, naming the arg and the value', async () => {
    for (const [value, shown] of [
      ['abc', '"abc"'],
      [true, 'true'],
      [-1, '-1'],
      ['-5', '"-5"'],
      [{ ms: 1 }, '{"ms":1}'],
      [Number.NaN, 'null'],
      [undefined, 'it is missing'],
      ['', '""'],
    ] as const) {
      const job = make('sleep');
      let err: unknown;
      try {
        await job.create({ duration: value });
      } catch (e) {
        err = e;
      }
      expect(err, `value ${String(value)}`).toBeInstanceOf(JobArgError);
      expect((err as JobArgError).arg).toBe('duration');
      expect((err as Error).message).toContain('arg duration');
      expect((err as Error).message).toContain(shown);
    }
  });
});

describe('sleep: run', () => {
  it('waits the duration, then COMPLETE', async () => {
    const job = await viaWire('sleep', { duration: '120' });
    expect(job.status()).toBe('not started, will sleep 120 ms');
    const t0 = performance.now();
    const ret = await job.run({});
    const took = performance.now() - t0;
    expect(ret).toEqual({ state: State.COMPLETE, exit: 0 });
    expect(took).toBeGreaterThanOrEqual(110);
    expect(took).toBeLessThan(1000);
    expect(job.status()).toBe('slept 120 ms');
  });

  it('says how long is left while sleeping', async () => {
    const job = await viaWire('sleep', { duration: 800 });
    const running = job.run({});
    await new Promise((r) => setTimeout(r, 60));
    const line = job.status();
    const m = /^sleeping, (\d+) ms left$/.exec(line);
    expect(m, line).not.toBeNull();
    const left = Number(m?.[1]);
    expect(left).toBeGreaterThan(500);
    expect(left).toBeLessThanOrEqual(760);
    job.stop();
    await running;
  });

  it('stop ends it at once with STOPPED', async () => {
    const job = await viaWire('sleep', { duration: 60_000 });
    const t0 = performance.now();
    const running = job.run({});
    setTimeout(() => job.stop(), 50);
    const ret = await running;
    expect(performance.now() - t0).toBeLessThan(500);
    expect(ret.state).toBe(State.STOPPED);
    expect(ret.error).toMatch(/^stopped after \d+ms of 1m0s$/);
    expect(job.status()).toMatch(/^stopped, \d+ ms were left$/);
    job.stop(); // idempotent
  });

  it('stopped before run returns STOPPED without sleeping', async () => {
    const job = await viaWire('sleep', { duration: 60_000 });
    job.stop();
    const t0 = performance.now();
    expect((await job.run({})).state).toBe(State.STOPPED);
    expect(performance.now() - t0).toBeLessThan(1000); // not the minute it was given
  });

  it('can run again on the same instance (JR retries)', async () => {
    const job = await viaWire('sleep', { duration: 30 });
    expect((await job.run({})).state).toBe(State.COMPLETE);
    const again = job.run({});
    expect(job.status()).toMatch(/^sleeping, \d+ ms left$/);
    expect((await again).state).toBe(State.COMPLETE);
  });

  it('a zero duration completes at once', async () => {
    const job = await viaWire('sleep', { duration: '0' });
    expect((await job.run({})).state).toBe(State.COMPLETE);
  });

  it('fails, without throwing, when it was never given args', async () => {
    const job = make('sleep');
    job.deserialize(new Uint8Array(0));
    const ret = await job.run({});
    expect(ret.state).toBe(State.FAIL);
    expect(ret.error).toMatch(/invalid duration/);
  });
});
