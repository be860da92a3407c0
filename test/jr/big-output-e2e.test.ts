/**
 * Big job output end to end: real RM and JR processes over HTTP. One job
 * returns 5 MiB of stdout, others 200 kB, and the RM takes bodies of at most
 * 100 kB (`server.internal_body_limit`). The JR keeps the tail of each entry's text
 * (`jobs.max_log_bytes`, 64 KiB here), splits report calls the RM refuses as
 * too large (413), and every entry of every request is stored: asserted on
 * what the RM stored and on the JR's log.
 */
import { join } from 'node:path';
import { FINAL_STATES, type JobLog, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';

const SPECS = join(REPO_ROOT, 'test/jr/output-specs');
const JOBS = join(REPO_ROOT, 'test/jr/fixtures/output-jobs.mjs');
const FINAL = [...FINAL_STATES];
const CAP = 64 * 1024;
const OUTPUT_JOBS = ['big', 'medium-1', 'medium-2', 'medium-3', 'medium-4', 'small-1', 'small-2', 'small-3'];

/** The fixture's output generator (the same text the job wrote). */
async function generator(): Promise<(tag: string, bytes: number) => string> {
  const mod = (await import(JOBS)) as { output: (tag: string, bytes: number) => string };
  return mod.output;
}

/** The JR's JSON log lines. */
function logLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').flatMap((line) => {
    try {
      const v = JSON.parse(line) as unknown;
      return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe.each(['sqlite', 'mysql'] as const)('big job output on %s', (db) => {
  let sys: System;
  beforeAll(async () => {
    sys = await startSystem({
      db,
      specsDir: SPECS,
      jobsModule: JOBS,
      rmEnv: { SPINCYCLE_SERVER_INTERNAL_BODY_LIMIT: '100kb' },
      jrEnv: { SPINCYCLE_JOBS_MAX_LOG_BYTES: String(CAP) },
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it("a job's 5 MiB stdout is stored as its tail; every entry of every request is stored", async () => {
    const output = await generator();
    const sizes = [
      { big: 5 * 1024 * 1024, medium: 200_000 },
      ...Array.from({ length: 4 }, () => ({ big: 1000, medium: 2000 })),
    ];
    const created = await Promise.all(
      sizes.map((s) => sys.client.createRequest('output', { big: String(s.big), medium: String(s.medium) })),
    );
    const done = await Promise.all(created.map((r) => waitForState(sys.client, r.id, FINAL)));
    expect(done.map((r) => r.state)).toEqual(Array(created.length).fill(State.COMPLETE));

    const names = new Map<string, string>();
    for (const [i, req] of done.entries()) {
      const logs: JobLog[] = await sys.client.getJobLogs(req.id);
      expect(req.finishedJobs).toBe(req.totalJobs);
      // One entry per job (none failed, none retried), each COMPLETE.
      expect(logs).toHaveLength(req.totalJobs);
      expect(logs.every((l) => l.state === State.COMPLETE)).toBe(true);
      const written = logs.filter((l) => l.type === 't-output');
      expect(written.map((l) => l.name).sort()).toEqual([...OUTPUT_JOBS].sort());
      for (const l of written) {
        names.set(l.jobId, l.name);
        const size = sizes[i] as { big: number; medium: number };
        const bytes = l.name === 'big' ? size.big : l.name.startsWith('medium') ? size.medium : 300;
        const full = output(`${req.id}/${l.name}`, bytes);
        const expected = bytes > CAP ? `[… ${bytes - CAP} bytes truncated …]\n${full.slice(-CAP)}` : full;
        expect(l.stdout, `${req.id} ${l.name}`).toBe(expected);
        expect(l.stderr).toBe(`stderr of ${l.name}`);
      }
    }
    const big = done[0]?.id;

    const lines = logLines(sys.jr.log);
    // One warning per cut entry, with its original size.
    const cut = lines
      .filter((l) => l.message === 'job-log entry too large: only the tail of its text goes to the RM')
      .map((l) => [l.requestId, names.get(l.jobId as string), l.try, l.originalBytes]);
    expect(cut.sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      [big, 'big', 1, { stdout: 5 * 1024 * 1024 }],
      [big, 'medium-1', 1, { stdout: 200_000 }],
      [big, 'medium-2', 1, { stdout: 200_000 }],
      [big, 'medium-3', 1, { stdout: 200_000 }],
      [big, 'medium-4', 1, { stdout: 200_000 }],
    ]);
    // The call with the cut entries was too large for this RM: split, and nothing dropped.
    expect(lines.some((l) => String(l.message).startsWith('RM rejected a report call'))).toBe(true);
    expect(lines.filter((l) => l.message === 'RM refused a job-log entry; it is dropped')).toEqual([]);
  });
});
