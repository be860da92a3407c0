/**
 * Fault test 7, short form: `pnpm soak -- --requests 40` (40 requests over 2
 * JRs with kill -9, SIGTERM hand-offs and SIGSTOP past the lease). The script
 * checks every invariant itself and exits 1 on any problem; the long form
 * (`pnpm soak`, 200 requests) is documented in docs/operations.md. The seed is
 * fixed so every CI run plays the same fault plan.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/system.js';

/** The random seed of the fault plan: fixed, so a failure here replays with `pnpm soak -- --seed 4242`. */
const SEED = 4242;

describe('soak (short form)', () => {
  it('40 requests with random JR faults: every request final, every COMPLETE job with exactly one COMPLETE entry', () => {
    const run = new URL(process.env.SPINCYCLE_TEST_MYSQL_URL as string);
    const server = `${run.protocol}//${run.username}${run.password ? `:${run.password}` : ''}@${run.host}`;
    const r = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, 'scripts/soak.mjs'),
        '--requests',
        '40',
        '--json',
        '--mysql',
        server,
        '--timeout',
        '150',
        '--seed',
        String(SEED),
      ],
      {
        encoding: 'utf8',
        timeout: 170_000,
      },
    );
    const lines = r.stdout.trim().split('\n');
    const counts = JSON.parse(lines[lines.length - 1] ?? '{}') as {
      requests: number;
      created: number;
      byState: Record<string, number>;
      faults: { kill9: number; sigterm: number; sigstop: number };
      problems: number;
      completeJobs: number;
      completeEntries: number;
      seed: number;
    };
    process.stdout.write(`${lines.slice(0, -1).join('\n')}\n`);
    expect(r.status, `${r.stdout}\n${r.stderr.slice(-4000)}`).toBe(0);
    expect(counts.problems).toBe(0);
    expect(counts.seed).toBe(SEED);
    expect(counts.requests).toBe(40);
    const final = (counts.byState.COMPLETE ?? 0) + (counts.byState.FAIL ?? 0) + (counts.byState.STOPPED ?? 0);
    expect(final).toBe(counts.created);
    expect(counts.byState.COMPLETE ?? 0).toBeGreaterThan(0);
    expect(counts.faults).toEqual({
      kill9: expect.any(Number),
      sigterm: expect.any(Number),
      sigstop: expect.any(Number),
    });
    expect(
      Math.min(counts.faults.kill9, counts.faults.sigterm, counts.faults.sigstop),
    ).toBeGreaterThanOrEqual(1);
    expect(counts.completeEntries).toBeGreaterThanOrEqual(counts.completeJobs);
  }, 180_000);
});
