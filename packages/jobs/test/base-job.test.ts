import { type JobArgs, State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { requiredString } from '../src/args.js';
import { BaseJob } from '../src/base-job.js';
import { TailBuffer, truncateTail } from '../src/builtin/tail-buffer.js';
import { JobArgError } from '../src/errors.js';
import type { JobReturn } from '../src/job.js';
import { jobId } from './helpers.js';

interface GreetArgs {
  name: string;
  big?: bigint;
}

class Greet extends BaseJob<GreetArgs> {
  protected override parseArgs(jobArgs: JobArgs): GreetArgs {
    const args: GreetArgs = { name: requiredString(jobArgs, 'name') };
    if (typeof jobArgs.big === 'bigint') args.big = jobArgs.big;
    jobArgs.greeting = `hello ${args.name}`;
    return args;
  }
  override async run(jobData: Record<string, unknown>): Promise<JobReturn> {
    this.setStatus('waiting');
    if (!(await this.wait(10_000))) return this.stopped();
    jobData.greeted = this.args.name;
    return this.complete();
  }
  exposedSignal(): AbortSignal {
    return this.signal;
  }
}

describe('BaseJob', () => {
  it('validates in create, serializes the args as JSON and restores them', async () => {
    const rm = new Greet(jobId('greet'));
    const jobArgs: JobArgs = { name: 'ada', big: 12345678901234567890n };
    rm.create(jobArgs);
    expect(jobArgs.greeting).toBe('hello ada');
    const bytes = rm.serialize();
    expect(new TextDecoder().decode(bytes)).toBe('{"name":"ada","big":12345678901234567890}');
    const jr = new Greet(jobId('greet'));
    jr.deserialize(bytes);
    expect((jr as unknown as { args: GreetArgs }).args).toEqual({ name: 'ada', big: 12345678901234567890n });
  });

  it('rejects bad args with JobArgError', () => {
    expect(() => new Greet(jobId('greet')).create({})).toThrow(JobArgError);
  });

  it('stop aborts the signal and ends wait(); stop is idempotent', async () => {
    const job = new Greet(jobId('greet'));
    job.deserialize(new TextEncoder().encode('{"name":"x"}'));
    const signal = job.exposedSignal();
    const data: Record<string, unknown> = {};
    const running = job.run(data);
    expect(job.status()).toBe('waiting');
    job.stop();
    job.stop();
    expect(signal.aborted).toBe(true);
    expect(await running).toEqual({ state: State.STOPPED, exit: 1, error: 'stopped' });
    expect(data).toEqual({});
  });

  it('a signal asked for after stop is already aborted', () => {
    const job = new Greet(jobId('greet'));
    job.stop();
    expect(job.exposedSignal().aborted).toBe(true);
  });
});

describe('TailBuffer', () => {
  it('keeps the last bytes across chunks and counts the dropped ones', () => {
    const b = new TailBuffer(5);
    for (const s of ['ab', 'cd', 'ef', 'gh']) b.push(Buffer.from(s));
    expect(b.total).toBe(8);
    expect(b.text()).toBe('[… 3 bytes truncated …]\ndefgh');
  });

  it('does not start the tail in the middle of a UTF-8 character', () => {
    const b = new TailBuffer(4);
    b.push(Buffer.from('aé€')); // 1 + 2 + 3 bytes; the last 4 are the 2nd byte of é and €
    expect(b.text()).toBe('[… 3 bytes truncated …]\n€');
  });

  it('keeps nothing with a zero limit', () => {
    const b = new TailBuffer(0);
    b.push(Buffer.from('abc'));
    expect(b.text()).toBe('[… 3 bytes truncated …]\n');
  });
});

describe('truncateTail', () => {
  it('returns a text that fits unchanged', () => {
    expect(truncateTail('', 0)).toBe('');
    expect(truncateTail('abc', 3)).toBe('abc');
    expect(truncateTail('é€', 5)).toBe('é€');
  });

  it('keeps the last bytes after the marker line, from a character boundary', () => {
    expect(truncateTail('abcdefgh', 5)).toBe('[… 3 bytes truncated …]\ndefgh');
    expect(truncateTail('aé€', 4)).toBe('[… 3 bytes truncated …]\n€');
    expect(truncateTail('x😀', 3)).toBe('[… 5 bytes truncated …]\n');
    expect(truncateTail('abc', 0)).toBe('[… 3 bytes truncated …]\n');
  });

  it('gives what a TailBuffer fed the same text gives', () => {
    const parts = ['a', 'é', '€', '😀', '\n', 'xyz', '\u{10ffff}'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      let text = '';
      for (let i = rnd(60); i > 0; i--) text += parts[rnd(parts.length)];
      const limit = rnd(80);
      const b = new TailBuffer(limit);
      b.push(Buffer.from(text));
      expect(truncateTail(text, limit)).toBe(b.text());
    }
  });

  it('cuts a large text to the limit', () => {
    const text = `${'x'.repeat(5 * 1024 * 1024)}THE END`;
    const out = truncateTail(text, 1024);
    expect(out).toBe(`[… ${text.length - 1024} bytes truncated …]\n${text.slice(-1024)}`);
  });
});
