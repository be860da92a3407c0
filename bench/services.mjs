// Helpers of `pnpm bench`: start RMs and JRs on one database, run the load driver
// in its own process without blocking (so RSS can be sampled meanwhile), and sample RSS.
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rssMb } from './load-driver.mjs';

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

async function up(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/**
 * Start `rms` RMs and `jrs` JRs on database `dsn`: every RM lists every JR, every JR every RM.
 * SPINCYCLE_BENCH_NODE_ARGS (space-separated) is passed to each service's node, e.g.
 * `--cpu-prof --cpu-prof-dir=prof` to profile them (written when they exit, after the bench).
 */
export async function startServices({ root, dsn, specs, rms = 1, jrs = 1, rmEnv = {} }) {
  const nodeArgs = (process.env.SPINCYCLE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
  const rmPorts = [];
  const jrPorts = [];
  for (let i = 0; i < rms; i++) rmPorts.push(await freePort());
  for (let i = 0; i < jrs; i++) jrPorts.push(await freePort());
  const rmUrls = rmPorts.map((p) => `http://127.0.0.1:${p}`);
  const jrUrls = jrPorts.map((p) => `http://127.0.0.1:${p}`);
  const start = (main, extra) =>
    spawn(process.execPath, [...nodeArgs, join(root, main)], {
      env: { ...env, ...extra },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  const rmProcs = rmPorts.map((port) =>
    start('services/request-manager/dist/main.js', {
      SPINCYCLE_SERVER_ADDR: `127.0.0.1:${port}`,
      SPINCYCLE_MYSQL_DSN: dsn,
      SPINCYCLE_SPECS_DIR: specs,
      SPINCYCLE_JR_CLIENT_URL: jrUrls.join(','),
      ...rmEnv,
    }),
  );
  const jrProcs = jrPorts.map((port) =>
    start('services/job-runner/dist/main.js', {
      SPINCYCLE_SERVER_ADDR: `127.0.0.1:${port}`,
      SPINCYCLE_RM_CLIENT_URL: rmUrls.join(','),
    }),
  );
  for (const url of [...rmUrls, ...jrUrls]) await up(url);
  return {
    rmUrls,
    jrUrls,
    rmProcs,
    jrProcs,
    /** SIGTERM to all; resolves when they have exited (or after 10 s). */
    stop: () =>
      Promise.all(
        [...jrProcs, ...rmProcs].map(
          (p) =>
            new Promise((res) => {
              if (p.exitCode !== null) return res();
              const t = setTimeout(res, 10_000);
              p.once('exit', () => {
                clearTimeout(t);
                res();
              });
              p.kill('SIGTERM');
            }),
        ),
      ),
  };
}

/** Run the load driver (a new process) with `args`; its last output line, parsed. */
export const runDriver = (driver, url, ...args) =>
  new Promise((res, rej) =>
    execFile(
      process.execPath,
      [driver, '--url', url, ...args],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
      (err, stdout) => (err ? rej(err) : res(JSON.parse(stdout.trim().split('\n').pop()))),
    ),
  );

/** Sample the RSS (MB) of `pids` every `everyMs` until stopped; the peak of each. */
export function sampleRss(pids, everyMs = 100) {
  const peak = pids.map(() => 0);
  const take = () =>
    pids.forEach((pid, i) => {
      peak[i] = Math.max(peak[i], rssMb(pid) ?? 0);
    });
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}
