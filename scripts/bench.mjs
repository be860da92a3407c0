#!/usr/bin/env node
// `pnpm bench`: start an RM and a JR on a fresh MariaDB database with the
// benchmark specs in bench/specs, drive them with bench/load-driver.mjs, and
// print each figure beside its target. A benchmark, not a test: it only reports.
//
//   pnpm bench [--hosts N] [--total N] [--clients N] [--quick]
//
// --hosts: hosts of the first wide run (the second has twice as many; default 1000);
// --total/--clients: the concurrent workload (default 500 from 20 clients);
// --quick: --hosts 100 --total 50 --clients 5, to check the bench runs (targets are for the defaults).
// SPINCYCLE_BENCH_DRIVER and SPINCYCLE_BENCH_SPECS swap in another load driver (same
// command line and JSON output) or spec directory; SPINCYCLE_BENCH_MYSQL is the server.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { rssMb } from '../bench/load-driver.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const driver = resolve(process.env.SPINCYCLE_BENCH_DRIVER ?? join(root, 'bench/load-driver.mjs'));
const specs = resolve(process.env.SPINCYCLE_BENCH_SPECS ?? join(root, 'bench/specs'));
const server = process.env.SPINCYCLE_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';
const { values: opts } = parseArgs({
  options: {
    hosts: { type: 'string' },
    total: { type: 'string' },
    clients: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const hosts = Number(opts.hosts ?? (opts.quick ? 100 : 1000));
const total = String(opts.total ?? (opts.quick ? 50 : 500));
const clients = String(opts.clients ?? (opts.quick ? 5 : 20));
const defaults = hosts === 1000 && total === '500' && clients === '20';

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

const db = `spincycle_bench_${Date.now().toString(36)}`;
const conn = await mysql.createConnection(server);
await conn.query(`CREATE DATABASE \`${db}\``);

const [rmPort, jrPort] = [await freePort(), await freePort()];
const rmUrl = `http://127.0.0.1:${rmPort}`;
const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
const rm = spawn(process.execPath, [join(root, 'services/request-manager/dist/main.js')], {
  env: {
    ...env,
    SPINCYCLE_SERVER_ADDR: `127.0.0.1:${rmPort}`,
    SPINCYCLE_MYSQL_DSN: `${server}/${db}`,
    SPINCYCLE_SPECS_DIR: specs,
    SPINCYCLE_JR_CLIENT_URL: `http://127.0.0.1:${jrPort}`,
    // Room for the 1,000,000-host create: the refusal measured is limits.max_jobs' 400, not the 413.
    SPINCYCLE_SERVER_BODY_LIMIT: '64mb',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const jr = spawn(process.execPath, [join(root, 'services/job-runner/dist/main.js')], {
  env: { ...env, SPINCYCLE_SERVER_ADDR: `127.0.0.1:${jrPort}`, SPINCYCLE_RM_CLIENT_URL: rmUrl },
  stdio: ['ignore', 'inherit', 'inherit'],
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
 * Time a create of bench-wide with 1,000,000 hosts (a chain far over limits.max_jobs) until
 * its answer, and check the RM answers a GET right after.
 */
async function refusedCreate() {
  const body = JSON.stringify({
    type: 'bench-wide',
    args: { hosts: Array.from({ length: 1_000_000 }, (_, i) => `host${i}`).join(',') },
  });
  const t0 = performance.now();
  const res = await fetch(`${rmUrl}/api/v1/requests`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  await res.text();
  const ms = Math.round(performance.now() - t0);
  const after = await fetch(`${rmUrl}/api/v1/requests?limit=1`);
  await after.text();
  return { status: res.status, ms, responsive: after.ok };
}

const bench = (...args) =>
  JSON.parse(
    execFileSync(process.execPath, [driver, '--url', rmUrl, ...args], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    })
      .trim()
      .split('\n')
      .pop(),
  );

try {
  await up(rmUrl);
  await up(`http://127.0.0.1:${jrPort}`);
  bench('--workload', 'wide', '--n', '50'); // warm-up
  const w1 = bench('--workload', 'wide', '--n', String(hosts)).wide;
  const w2 = bench('--workload', 'wide', '--n', String(2 * hosts)).wide;
  const rss = { rm: rssMb(rm.pid) ?? 0, jr: rssMb(jr.pid) ?? 0 };
  const deep = bench('--workload', 'deep').deep;
  const refused = await refusedCreate();
  // The first concurrent run after start-up is shown as is but not held to the target: much
  // of it runs before V8 has optimised the create, send and report paths (the wide and deep
  // runs exercise other shapes). The target is checked on the median (by p50) of the three
  // runs after it: the state of an RM that has been up for more than a few seconds. The
  // driver is a new process every run.
  const concurrent = () =>
    bench('--workload', 'concurrent', '--total', total, '--clients', clients, '--sleep', '100').concurrent;
  const conc = concurrent();
  const warmRuns = [concurrent(), concurrent(), concurrent()].sort((a, b) => a.createP50 - b.createP50);
  const warm = warmRuns[1];
  // Calibration: the same driver against a do-nothing stand-in RM (bench/stub-rm.mjs)
  // shows what the driver itself costs on this machine: its ceiling for the concurrent
  // workload (it shares the two cores with everything else) and the fixed time of a
  // single-request run (a new process: loading fetch makes its first call slow).
  const stub = spawn(process.execPath, [join(root, 'bench/stub-rm.mjs'), '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let ceiling;
  let alone;
  try {
    const { port } = await new Promise((res) => stub.stdout.once('data', (d) => res(JSON.parse(String(d)))));
    const stubUrl = `http://127.0.0.1:${port}`;
    const onStub = (...args) =>
      JSON.parse(
        execFileSync(process.execPath, [driver, '--url', stubUrl, ...args], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop(),
      );
    const median = (runs, key) => runs.sort((x, y) => x[key] - y[key])[1];
    ceiling = median(
      [1, 2, 3].map(
        () => onStub('--workload', 'concurrent', '--total', total, '--clients', clients).concurrent,
      ),
      'createP50',
    );
    alone = median(
      [1, 2, 3].map(() => onStub('--workload', 'deep').deep),
      'makespanMs',
    );
  } finally {
    stub.kill('SIGTERM');
  }
  const net = (ms) => Math.max(0, ms - alone.makespanMs);
  const rows = [
    [
      `wide ${hosts} hosts: create`,
      `${w1.createMs} ms (${w1.totalJobs} jobs, ${w1.state === 3 ? 'COMPLETE' : `state ${w1.state}`}, ${w1.logEntries} log entries)`,
      '≤ 400 ms',
      w1.createMs <= 400,
    ],
    [
      `wide ${hosts} hosts: POST to COMPLETE`,
      `${w1.makespanMs} ms`,
      '≤ 2 s',
      w1.makespanMs <= 2000 && w1.state === 3,
    ],
    [
      `wide ${2 * hosts} vs ${hosts}: create`,
      `${(w2.createMs / w1.createMs).toFixed(2)}× (${w2.createMs} ms)`,
      '≤ 2.2×',
      w2.createMs / w1.createMs <= 2.2,
    ],
    [
      `wide ${2 * hosts} vs ${hosts}: makespan`,
      `${(w2.makespanMs / w1.makespanMs).toFixed(2)}× (${w2.makespanMs} ms)`,
      '≤ 2.2×',
      w2.makespanMs / w1.makespanMs <= 2.2,
    ],
    [
      'deep, 200 jobs in a line',
      `${deep.msPerJob} ms per job (${deep.makespanMs} ms)`,
      '≤ 0.5 ms/job',
      deep.msPerJob <= 0.5,
    ],
    [
      "deep, net of the driver's own time (see below)",
      `${(net(deep.makespanMs) / deep.totalJobs).toFixed(3)} ms per job`,
      '',
      true,
    ],
    [
      'concurrent, first run after start (JIT still cold): creates/s, p50 / p99',
      `${conc.createPerSecond}/s, ${conc.createP50} / ${conc.createP99} ms`,
      'shown, no target',
      null,
    ],
    [
      `concurrent ${total} from ${clients} clients (median of the 3 runs after it): creates/s`,
      `${warm.createPerSecond}/s`,
      '≥ 400/s',
      warm.createPerSecond >= 400,
    ],
    [
      'concurrent (median of 3): create p50 / p99',
      `${warm.createP50} / ${warm.createP99} ms`,
      'p50 ≤ 40 ms',
      warm.createP50 <= 40,
    ],
    [
      '1,000,000-host create refused',
      `${refused.ms} ms (HTTP ${refused.status}${refused.responsive ? '' : ', RM not answering after'})`,
      '≤ 1 s',
      refused.status === 400 && refused.responsive && refused.ms <= 1000,
    ],
    ['concurrent: GET p50, find p50', `${conc.getP50} ms, ${conc.findP50} ms`, '', true],
    [
      `RSS after the ${2 * hosts}-host run: RM / JR`,
      `${rss.rm.toFixed(0)} MB / ${rss.jr.toFixed(0)} MB`,
      '≤ 200 MB each',
      rss.rm <= 200 && rss.jr <= 200,
    ],
  ];
  console.log('\n| workload | measured | target | met |\n|---|---|---|---|');
  for (const [name, got, target, ok] of rows)
    console.log(`| ${name} | ${got} | ${target} | ${ok === null ? '—' : ok ? 'yes' : 'NO'} |`);
  if (!defaults)
    console.log('\n(not the default sizes: the targets are for --hosts 1000 --total 500 --clients 20)');
  console.log(`\nconcurrent states: ${JSON.stringify(conc.states)}; all done in ${conc.allDoneSeconds} s`);
  console.log(
    '\nThe same driver against a do-nothing stand-in RM on this machine (median of 3), for comparison:',
  );
  console.log(
    `- concurrent ${total} from ${clients} clients: ${ceiling.createPerSecond} creates/s, p50 ${ceiling.createP50} ms, p99 ${ceiling.createP99} ms (the most any RM can show here)`,
  );
  console.log(
    `- a single-request run (POST, one GET, the log): ${alone.makespanMs} ms, first POST ${alone.createMs} ms; included in every wide/deep figure above`,
  );
} finally {
  jr.kill('SIGTERM');
  rm.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
}
