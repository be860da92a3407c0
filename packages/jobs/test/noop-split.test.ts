import { BadRequestError, State } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { JobArgError } from '../src/errors.js';
import { make, viaWire } from './helpers.js';

describe('noop', () => {
  it('completes, serializes to empty bytes', async () => {
    const job = make('noop');
    await job.create({ anything: 1 });
    expect((await job.serialize()).length).toBe(0);
    const jr = await viaWire('noop', {});
    expect(await jr.run({})).toEqual({ state: State.COMPLETE, exit: 0 });
    expect(jr.status()).toBe('noop');
    jr.stop();
    jr.stop();
  });

  it('keeps its id', () => {
    const job = make('noop');
    expect(job.id()).toMatchObject({ type: 'noop', requestId: 'req1' });
  });
});

describe('split', () => {
  it('sets output to the non-empty trimmed parts', async () => {
    const args: Record<string, unknown> = { input: ' a, b,,c , ,d' };
    await make('split').create(args);
    expect(args.output).toEqual(['a', 'b', 'c', 'd']);
  });

  it('takes a custom separator, several characters long', async () => {
    const args: Record<string, unknown> = { input: 'x :: y::z', sep: '::' };
    await make('split').create(args);
    expect(args.output).toEqual(['x', 'y', 'z']);
  });

  it('gives [] for an empty or blank input', async () => {
    for (const input of ['', ' , ,']) {
      const args: Record<string, unknown> = { input };
      await make('split').create(args);
      expect(args.output).toEqual([]);
    }
  });

  it('rejects a missing or non-string input and a bad sep, naming the arg', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{}, 'input', /^arg input: must be a string \(it is missing\)$/],
      [{ input: 42 }, 'input', /^arg input: must be a string, got 42$/],
      [{ input: 'a', sep: '' }, 'sep', /^arg sep: must be a non-empty string, got ""$/],
      [{ input: 'a', sep: 1 }, 'sep', /arg sep/],
    ];
    for (const [args, arg, message] of cases) {
      const err = await Promise.resolve()
        .then(() => make('split').create(args))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JobArgError);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as JobArgError).httpStatus).toBe(400);
      expect((err as JobArgError).arg).toBe(arg);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('serializes nothing and completes at run time', async () => {
    const job = make('split');
    await job.create({ input: 'a,b' });
    expect((await job.serialize()).length).toBe(0);
    const jr = await viaWire('split', { input: 'a,b' });
    expect((await jr.run({})).state).toBe(State.COMPLETE);
  });

  it('keeps no state between instances (10k make+create+serialize, each its own output)', async () => {
    for (let i = 0; i < 10_000; i++) {
      const job = make('split');
      const args: Record<string, unknown> = { input: `host${i},host${i + 1}` };
      await job.create(args);
      await job.serialize();
      expect(args.output).toEqual([`host${i}`, `host${i + 1}`]);
    }
  });
});
