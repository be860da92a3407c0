/**
 * `pnpm bench:chain`: builds the `bench-wide` request in-process for 1,000 and
 * 2,000 hosts with the built-in job factory and prints the median build time
 * beside the targets: ≤ 150 ms at 1,000 hosts, ≤ 2.2 × 150 ms at 2,000 hosts,
 * and a 2000/1000 ratio ≤ 2.2 (linear). Then it times the refusal of 1,000,000
 * hosts by the job limit (DEFAULT_MAX_JOBS): the builder must stop as soon as
 * the limit is passed, not build millions of jobs first. A benchmark, not a
 * test: it always exits 0 once it has measured.
 *
 *   node packages/chain/dist/bench.js [--specs DIR] [--runs N] [--warmup N]
 *
 * --specs defaults to the repository's bench/specs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtinJobFactory } from '@spincycle/jobs';
import { loadSpecs } from '@spincycle/spec';
import { buildJobChain, DEFAULT_MAX_JOBS } from './build.js';
import { TooManyJobsError } from './errors.js';

const TARGET_MS_1000 = 150;
const TARGET_RATIO = 2.2;
const SIZES = [1000, 2000] as const;

// This file runs from packages/chain/dist: the repository root is three levels up, and the
// bench specs (bench-wide and friends) live in its bench/specs.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const { values } = parseArgs({
  options: {
    specs: { type: 'string', default: path.join(repoRoot, 'bench', 'specs') },
    runs: { type: 'string', default: '31' },
    warmup: { type: 'string', default: '10' },
  },
});
const runs = Math.max(1, Number.parseInt(values.runs, 10) || 31);
const warmup = Math.max(0, Number.parseInt(values.warmup, 10) || 0);

const { specs, diagnostics } = await loadSpecs(values.specs);
const errors = diagnostics.filter((d) => d.severity === 'error');
if (errors.length > 0 || !specs.sequences.has('bench-wide')) {
  for (const d of errors) console.error(`${d.file}:${d.line}: ${d.message}`);
  console.error(`bench-wide not loadable from ${values.specs}`);
  process.exit(1);
}

const hostsArg = (n: number) =>
  Array.from({ length: n }, (_, i) => `host-${String(i).padStart(5, '0')}`).join(',');

async function once(hosts: string): Promise<{ ms: number; jobs: number }> {
  const start = process.hrtime.bigint();
  const { chain } = await buildJobChain({
    specs,
    type: 'bench-wide',
    args: { hosts },
    factory: builtinJobFactory,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, jobs: Object.keys(chain.jobs).length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const inputs = SIZES.map(hostsArg);
for (let i = 0; i < warmup; i++) for (const h of inputs) await once(h);

// Interleave the sizes so that drift (GC, CPU frequency) affects both alike.
const times: number[][] = SIZES.map(() => []);
const jobs: number[] = SIZES.map(() => 0);
for (let r = 0; r < runs; r++) {
  for (let k = 0; k < SIZES.length; k++) {
    const { ms, jobs: count } = await once(inputs[k] as string);
    (times[k] as number[]).push(ms);
    jobs[k] = count;
  }
}

const m1 = median(times[0] as number[]);
const m2 = median(times[1] as number[]);
const ratio = m2 / m1;
const target2 = TARGET_RATIO * TARGET_MS_1000;
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const ms = (x: number) => `${x.toFixed(1).padStart(6)} ms`;
const line = (n: number, k: number) => {
  const t = times[k] as number[];
  return `  ${n} hosts: ${ms(k === 0 ? m1 : m2)}  ${String(jobs[k]).padStart(6)} jobs  (min ${ms(Math.min(...t))}, max ${ms(Math.max(...t))})`;
};
console.log(
  `bench-wide chain build: in-process, built-in job factory, median of ${runs} runs after ${warmup} warm-ups`,
);
console.log(`specs ${values.specs}, node ${process.version}`);
console.log(`${line(1000, 0)}   target <= ${TARGET_MS_1000} ms   ${verdict(m1 <= TARGET_MS_1000)}`);
console.log(
  `${line(2000, 1)}   target <= ${target2} ms (${TARGET_RATIO} x ${TARGET_MS_1000} ms)   ${verdict(m2 <= target2)}`,
);
console.log(
  `  ratio 2000/1000: ${ratio.toFixed(3)}   linear: target <= ${TARGET_RATIO}   ${verdict(ratio <= TARGET_RATIO)}`,
);

// The job limit: 1,000,000 hosts would be 7,000,009 jobs; the build must give up at once.
const HUGE = 1_000_000;
const huge = hostsArg(HUGE);
const refusals: number[] = [];
let refusal = '';
for (let r = 0; r < 3; r++) {
  const start = process.hrtime.bigint();
  try {
    await once(huge);
    refusal = 'NOT refused';
  } catch (err) {
    refusal = err instanceof TooManyJobsError ? 'refused (too_many_jobs)' : `failed: ${String(err)}`;
  }
  refusals.push(Number(process.hrtime.bigint() - start) / 1e6);
}
console.log(
  `  ${HUGE} hosts: ${refusal} after ${ms(median(refusals))} (median of 3, limit ${DEFAULT_MAX_JOBS} jobs; includes splitting the hosts arg)`,
);
