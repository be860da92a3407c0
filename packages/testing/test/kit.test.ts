/** The testing kit: the RM/JR instance rules, the JR's retry loop, and whole requests on the real traversal. */
import { fileURLToPath } from 'node:url';
import {
  BaseJob,
  type JobArgs,
  type JobData,
  type JobMakers,
  type JobReturn,
  requiredString,
} from '@spincycle/jobs';
import { State } from '@spincycle/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runJob, runRequest, SpecsError, startJob } from '../src/index.js';

const specs = fileURLToPath(new URL('./specs', import.meta.url));
const badSpecs = fileURLToPath(new URL('./bad-specs', import.meta.url));

/** Every instance made, to tell the RM's from the JR's. */
const instances: EchoJob[] = [];

class EchoJob extends BaseJob<{ word: string }> {
  created = false;
  runs = 0;
  constructor(id: ConstructorParameters<typeof BaseJob>[0]) {
    super(id);
    instances.push(this);
  }
  protected override parseArgs(jobArgs: JobArgs): { word: string } {
    this.created = true;
    jobArgs.echoed = true; // a `sets` for later nodes
    return { word: requiredString(jobArgs, 'word') };
  }
  override async run(jobData: JobData): Promise<JobReturn> {
    this.runs++;
    jobData.word = this.args.word;
    const failUntil = Number(jobData.failUntil ?? 0);
    if (this.runs < failUntil) return this.fail(`run ${this.runs}`);
    return this.complete({ stdout: `${this.args.word} on run ${this.runs}`, stderr: 'e' });
  }
}

/** Fails the first time it runs in a test, then completes. */
let flakyRuns = 0;
class FlakyJob extends BaseJob {
  override async run(): Promise<JobReturn> {
    flakyRuns++;
    return flakyRuns === 1 ? this.fail('first time') : this.complete();
  }
}

const jobs: JobMakers = { echo: EchoJob, flaky: FlakyJob };

afterEach(() => {
  instances.length = 0;
  flakyRuns = 0;
  vi.useRealTimers();
});

describe('runJob', () => {
  it('creates and serializes on one instance, deserializes and runs on a fresh one', async () => {
    const r = await runJob(jobs, { type: 'echo', args: { word: 'hi' }, data: { before: 1 } });
    expect(r).toMatchObject({
      state: State.COMPLETE,
      exit: 0,
      error: '',
      stdout: 'hi on run 1',
      stderr: 'e',
    });
    expect(instances).toHaveLength(2);
    const [rm, jr] = instances as [EchoJob, EchoJob];
    expect([rm.created, rm.runs]).toEqual([true, 0]);
    // The JR's instance never saw create: its args came from the bytes.
    expect([jr.created, jr.runs]).toEqual([false, 1]);
    expect(new TextDecoder().decode(r.bytes)).toBe('{"word":"hi"}');
    expect(r.args).toEqual({ word: 'hi', echoed: true });
    expect(r.data).toEqual({ before: 1, word: 'hi' });
  });

  it('retries on the same instance with the same job data, as the JR does', async () => {
    const r = await runJob(jobs, { type: 'echo', args: { word: 'x' }, data: { failUntil: 3 }, tries: 4 });
    expect(r.tries.map((t) => [t.try, t.stateName, t.error])).toEqual([
      [1, 'FAIL', 'run 1'],
      [2, 'FAIL', 'run 2'],
      [3, 'COMPLETE', ''],
    ]);
    expect(r.stdout).toBe('x on run 3');
    expect(instances).toHaveLength(2);
  });

  it('waits retryWait between tries on timers a test can fake', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const running = await startJob(jobs, {
      type: 'echo',
      args: { word: 'x' },
      data: { failUntil: 2 },
      tries: 2,
      retryWait: '1h',
    });
    let done = false;
    void running.result.then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(59 * 60_000);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await running.result).tries.map((t) => t.stateName)).toEqual(['FAIL', 'COMPLETE']);
  });

  it('stops a running job once a condition on its status holds', async () => {
    const r = await runJob(jobs, {
      type: 'sleep',
      args: { duration: '1h' },
      tries: 3,
      stopWhen: (status) => status.startsWith('sleeping'),
    });
    expect(r.tries).toHaveLength(1);
    expect(r.stateName).toBe('STOPPED');
    expect(r.error).toMatch(/^stopped after/);
  });

  it('stops a job a given time after it started', async () => {
    const r = await runJob(jobs, { type: 'sleep', args: { duration: '1h' }, stopAfterMs: 20 });
    expect(r.stateName).toBe('STOPPED');
  });
});

describe('runRequest', () => {
  it('runs the chain with deps, args set by create, a sequence retry and a conditional', async () => {
    const r = await runRequest(specs, 'kit', { mode: 'fast', word: 'hey' }, jobs);
    expect(r.stateName).toBe('COMPLETE');
    expect(r.job('first').tries[0]?.stdout).toBe('hey on run 1');
    // The sequence was retried as a whole: its job failed once, then completed.
    expect(r.job('flaky').tries.map((t) => [t.try, t.stateName])).toEqual([
      [1, 'FAIL'],
      [2, 'COMPLETE'],
    ]);
    expect(r.jobsNamed('slow')).toEqual([]);
    expect(r.job('fast').stateName).toBe('COMPLETE');
    // Job data flows down the chain.
    expect(r.job('fast').data.word).toBe('hey');
    expect(r.requestArgs.map((a) => [a.Name, a.Value])).toContainEqual(['mode', 'fast']);
  });

  it('stops a request once its sleep job runs: the job and the request end STOPPED', async () => {
    const r = await runRequest(specs, 'kit', { mode: 'slow', word: 'w' }, jobs, {
      stopWhen: (status) => status.startsWith('sleeping'),
    });
    expect(r.stateName).toBe('STOPPED');
    expect(r.job('slow').tries.map((t) => t.stateName)).toEqual(['STOPPED']);
    expect(r.job('first').stateName).toBe('COMPLETE');
  });

  it('refuses specs with errors, naming the file and line', async () => {
    const err = await runRequest(badSpecs, 'typo', {}, jobs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecsError);
    expect((err as SpecsError).message).toMatch(/typo\.yaml:8: .*job type "ecko"/);
  });

  it('rejects bad request args as the RM answers 400', async () => {
    await expect(runRequest(specs, 'kit', { mode: 'fast' }, jobs)).rejects.toThrow(/word/);
  });
});
