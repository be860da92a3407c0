#!/usr/bin/env node
// `pnpm soak [-- flags]`: a bounded soak of the whole system with faults.
//
// Starts RM(s) on a fresh MariaDB database and N Job Runners, submits
// requests of the HA test types (test/ha/specs) at a steady rate, stops a few
// of them, and meanwhile keeps hurting the JRs at random: kill -9 and restart,
// SIGTERM (hand-off) and restart, SIGSTOP past the lease and SIGCONT. Then it
// waits until nothing is RUNNING, PENDING or SUSPENDED and checks:
//   - every request is in a final state (COMPLETE, FAIL, STOPPED);
//   - no (job, try) job-log entry twice; no job with two COMPLETE entries;
//   - a COMPLETE request has exactly one COMPLETE entry per job, and
//     finishedJobs = totalJobs; no job of it completed twice in any process;
//   - a FAIL request says why in its job log.
// It prints its counts and exits 1 on any problem.
//
// Flags (defaults in brackets): --requests [200] --jrs [2] --rms [1]
//   --rate [4] requests/s  --stop-every [25] (stop every Nth request; 0 = none)
//   --chaos-min [1000] --chaos-max [3000] ms between faults (the first three: one of each kind)
//   --lease [3s]  --timeout [600] s overall bound
//   --seed [from the clock] the fault plan's random seed (a whole number); printed at the start
//   and in the counts, so a failing run can be replayed with the same faults
//   --mysql [$SPINCYCLE_SOAK_MYSQL, $SPINCYCLE_TEST_MYSQL_SERVER or mysql://root@127.0.0.1:3306]
//   --keep (keep the database and the logs)  --json (last line: the counts as JSON)
// Short form (what CI runs): --requests 40
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RM_MAIN = join(root, 'services/request-manager/dist/main.js');
const JR_MAIN = join(root, 'services/job-runner/dist/main.js');
const SPECS = join(root, 'test/ha/specs');
const JOBS = join(root, 'test/ha/fixtures/ha-jobs.mjs');

// ---------------------------------------------------------------- flags
function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const [k, v] = a.slice(2).split('=');
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
    else out[k] = true;
  }
  return out;
}
const f = flags(process.argv.slice(2));
const num = (v, d) => (v === undefined || v === true ? d : Number(v));
const opt = {
  requests: num(f.requests, 200),
  jrs: num(f.jrs, 2),
  rms: num(f.rms, 1),
  rate: num(f.rate, 4),
  stopEvery: num(f['stop-every'], 25),
  chaosMin: num(f['chaos-min'], 1000),
  chaosMax: num(f['chaos-max'], 3000),
  lease: typeof f.lease === 'string' ? f.lease : '3s',
  timeoutS: num(f.timeout, 600),
  seed: num(f.seed, Date.now() % 100000),
  mysql:
    typeof f.mysql === 'string'
      ? f.mysql
      : (process.env.SPINCYCLE_SOAK_MYSQL ??
        process.env.SPINCYCLE_TEST_MYSQL_SERVER ??
        'mysql://root@127.0.0.1:3306'),
  keep: f.keep === true,
  json: f.json === true,
};
if (!Number.isSafeInteger(opt.seed) || opt.seed < 0) {
  process.stderr.write(`soak: --seed must be a whole number ≥ 0, not ${f.seed}\n`);
  process.exit(2);
}
const leaseMs = /ms$/.test(opt.lease) ? Number.parseFloat(opt.lease) : Number.parseFloat(opt.lease) * 1000;

// Deterministic randomness (mulberry32), so a seed reproduces the fault plan.
let seed = opt.seed >>> 0;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (a, b) => Math.floor(a + rand() * (b - a));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1);
const say = (msg) => process.stderr.write(`[soak ${elapsed()}s] ${msg}\n`);
const deadline = t0 + opt.timeoutS * 1000;
say(`seed ${opt.seed} (replay this fault plan with --seed ${opt.seed})`);

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

// ---------------------------------------------------------------- processes
const work = mkdtempSync(join(tmpdir(), 'spincycle-soak-'));
const ledger = join(work, 'ledger');
const baseEnv = { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' };

class Proc {
  constructor(name, main, env, logFile) {
    this.name = name;
    this.main = main;
    this.env = env;
    this.logFile = logFile;
    this.child = undefined;
    this.starts = 0;
  }
  start() {
    this.starts++;
    const out = [];
    const child = spawn(process.execPath, [this.main], {
      cwd: root,
      env: { ...baseEnv, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (c) => out.push(c.toString());
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('exit', () => writeFileSync(`${this.logFile}.${this.starts}`, out.join('')));
    this.child = child;
    this.out = out;
    return this.healthy();
  }
  get url() {
    return `http://127.0.0.1:${this.env.SPINCYCLE_SERVER_ADDR.split(':')[1]}`;
  }
  get up() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  async healthy() {
    for (let i = 0; i < 300; i++) {
      if (!this.up) throw new Error(`${this.name} exited: ${this.out.join('').slice(-2000)}`);
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {}
      await sleep(50);
    }
    throw new Error(`${this.name} not healthy`);
  }
  signal(sig) {
    if (this.up) this.child.kill(sig);
  }
  async stop(sig = 'SIGTERM', timeoutMs = 30_000) {
    if (!this.up) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGCONT');
    this.child.kill(sig);
    const t = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  }
  log() {
    return (this.out ?? []).join('');
  }
}

// ---------------------------------------------------------------- HTTP
async function api(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

// ---------------------------------------------------------------- main
const dbName = `spincycle_soak_${Date.now().toString(36)}`;
const server = opt.mysql.replace(/\/+$/, '');
const counts = {
  seed: opt.seed,
  requests: 0,
  created: 0,
  createFailed: 0,
  createErrors: 0,
  userStops: 0,
  faults: { kill9: 0, sigterm: 0, sigstop: 0 },
  jrRestarts: 0,
  byState: {},
  lostExplained: 0,
  jobs: 0,
  completeJobs: 0,
  logEntries: 0,
  completeEntries: 0,
  suspendedHandoffs: 0,
  resumed: 0,
  seconds: 0,
  problems: 0,
};
const problems = [];
const rms = [];
const jrs = [];
let conn;

async function main() {
  conn = await mysql.createConnection(server);
  await conn.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4`);
  const jrPorts = [];
  for (let i = 0; i < opt.jrs; i++) jrPorts.push(await freePort());
  const rmPorts = [];
  for (let i = 0; i < opt.rms; i++) rmPorts.push(await freePort());
  const jrList = jrPorts.map((p) => `http://127.0.0.1:${p}`).join(',');
  const rmList = rmPorts.map((p) => `http://127.0.0.1:${p}`).join(',');
  for (const [i, port] of rmPorts.entries())
    rms.push(
      new Proc(
        `rm${i + 1}`,
        RM_MAIN,
        {
          SPINCYCLE_SERVER_ADDR: `127.0.0.1:${port}`,
          SPINCYCLE_MYSQL_DSN: `${server}/${dbName}`,
          SPINCYCLE_SPECS_DIR: SPECS,
          SPINCYCLE_JOBS_MODULE: JOBS,
          SPINCYCLE_JR_CLIENT_URL: jrList,
          SPINCYCLE_JR_CLIENT_TIMEOUT: '5s',
          SPINCYCLE_JR_LEASE: opt.lease,
          SPINCYCLE_JR_SWEEP_INTERVAL: '300ms',
          SPINCYCLE_RESUMER_INTERVAL: '300ms',
        },
        join(work, `rm${i + 1}.log`),
      ),
    );
  for (const [i, port] of jrPorts.entries())
    jrs.push(
      new Proc(
        `jr${i + 1}`,
        JR_MAIN,
        {
          SPINCYCLE_SERVER_ADDR: `127.0.0.1:${port}`,
          SPINCYCLE_RM_CLIENT_URL: rmList,
          SPINCYCLE_RM_CLIENT_TIMEOUT: '3s',
          SPINCYCLE_JOBS_MODULE: JOBS,
          SPINCYCLE_SHUTDOWN_GRACE: '10s',
          SPINCYCLE_HA_LEDGER: ledger,
        },
        join(work, `jr${i + 1}.log`),
      ),
    );
  for (const rm of rms) await rm.start();
  for (const jr of jrs) await jr.start();
  say(`up: ${rms.length} RM, ${jrs.length} JR, database ${dbName}, seed ${opt.seed}; work dir ${work}`);

  const ids = [];
  let submitting = true;
  const faultCount = () => counts.faults.kill9 + counts.faults.sigterm + counts.faults.sigstop;
  const chaos = (async () => {
    // The first three faults are one of each kind, and they all happen even when the
    // requests are submitted faster than that (a short run on a fast machine).
    while ((submitting || faultCount() < 3) && Date.now() < deadline) {
      await sleep(between(opt.chaosMin, opt.chaosMax));
      if (!submitting && faultCount() >= 3) break;
      const jr = pick(jrs);
      const n = faultCount();
      const r = n < 3 ? [0.1, 0.6, 0.9][n] : rand();
      if (r < 0.45) {
        counts.faults.kill9++;
        say(`kill -9 ${jr.name}`);
        await jr.stop('SIGKILL');
        await sleep(between(300, 2000));
      } else if (r < 0.85) {
        counts.faults.sigterm++;
        say(`SIGTERM ${jr.name} (hand-off)`);
        await jr.stop('SIGTERM');
        await sleep(between(100, 1000));
      } else {
        counts.faults.sigstop++;
        say(`SIGSTOP ${jr.name} past the lease`);
        jr.signal('SIGSTOP');
        await sleep(leaseMs + between(1000, 2500));
        jr.signal('SIGCONT');
        continue;
      }
      say(`restart ${jr.name}`);
      await jr.start();
      counts.jrRestarts++;
    }
  })();

  const types = [
    () => ['ha-steps', { ms: String(between(100, 600)) }],
    () => ['ha-job-retry', { ms: String(between(100, 500)) }],
    () => ['ha-nap', { ms: String(between(300, 2500)), afterMs: String(between(50, 300)) }],
  ];
  const gap = 1000 / opt.rate;
  for (let i = 0; i < opt.requests && Date.now() < deadline; i++) {
    const started = Date.now();
    const [type, args] = pick(types)();
    const rm = pick(rms);
    counts.requests++;
    try {
      const res = await api('POST', `${rm.url}/api/v1/requests`, { type, args });
      if (res.status === 201) {
        counts.created++;
        ids.push(res.json.id);
        if (opt.stopEvery > 0 && i % opt.stopEvery === opt.stopEvery - 1) {
          const id = res.json.id;
          // A user stop a little later, whatever state the request is in then.
          setTimeout(
            async () => {
              const s = await api('PUT', `${rm.url}/api/v1/requests/${id}/stop`).catch((e) => ({
                status: 0,
                json: String(e),
              }));
              if (s.status === 200) counts.userStops++;
              else problems.push(`stop of ${id}: HTTP ${s.status} ${JSON.stringify(s.json)}`);
            },
            between(100, 1500),
          );
        }
      } else if (res.status === 502) {
        // No JR took it (both down at that instant): the request exists and is FAIL.
        counts.createFailed++;
        const id = /request (\S+) was created/.exec(res.json?.message ?? '')?.[1];
        if (id) ids.push(id);
      } else {
        counts.createErrors++;
        problems.push(`create: HTTP ${res.status} ${JSON.stringify(res.json)}`);
      }
    } catch (err) {
      counts.createErrors++;
      problems.push(`create: ${err.message}`);
    }
    await sleep(Math.max(0, gap - (Date.now() - started)));
  }
  submitting = false;
  await chaos;
  for (const jr of jrs) {
    jr.signal('SIGCONT');
    if (!jr.up) {
      await jr.start();
      counts.jrRestarts++;
    }
  }
  say(`submitted ${ids.length} requests; waiting for all to be final`);

  const rm = rms[0];
  const settleBy = Math.min(deadline, Date.now() + 120_000);
  for (;;) {
    const res = await api('GET', `${rm.url}/api/v1/requests?state=RUNNING,PENDING,SUSPENDED`);
    const open = Array.isArray(res.json) ? res.json.filter((r) => ids.includes(r.id)) : [];
    if (res.status === 200 && open.length === 0) break;
    if (Date.now() > settleBy) {
      problems.push(
        `${open.length} requests not final: ${open
          .slice(0, 10)
          .map((r) => `${r.id}:${r.state}`)
          .join(' ')}`,
      );
      break;
    }
    await sleep(250);
  }
  await sleep(500); // user stops in flight

  // ------------------------------------------------------------ checks
  const events = existsSync(join(ledger, 'ledger.txt'))
    ? readFileSync(join(ledger, 'ledger.txt'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
    : [];
  const completedRuns = new Map();
  for (const [event, reqId, jobId] of events)
    if (event === 'complete')
      completedRuns.set(`${reqId}/${jobId}`, (completedRuns.get(`${reqId}/${jobId}`) ?? 0) + 1);
  const NAMES = ['UNKNOWN', 'PENDING', 'RUNNING', 'COMPLETE', 'FAIL', 'RESERVED', 'STOPPED', 'SUSPENDED'];
  for (const id of ids) {
    const req = (await api('GET', `${rm.url}/api/v1/requests/${id}`)).json;
    const logs = (await api('GET', `${rm.url}/api/v1/requests/${id}/log`)).json ?? [];
    const chain = req.JobChain;
    const name = NAMES[req.state] ?? String(req.state);
    counts.byState[name] = (counts.byState[name] ?? 0) + 1;
    if (![3, 4, 6].includes(req.state)) problems.push(`${id}: not final (${name})`);
    counts.jobs += Object.keys(chain.jobs).length;
    counts.logEntries += logs.length;
    const keys = new Set();
    const complete = new Map();
    for (const l of logs) {
      const k = `${l.jobId}/${l.try}`;
      if (keys.has(k)) problems.push(`${id}: entry ${k} twice`);
      keys.add(k);
      if (l.state === 3) {
        counts.completeEntries++;
        complete.set(l.jobId, (complete.get(l.jobId) ?? 0) + 1);
      }
    }
    for (const [job, n] of complete) if (n > 1) problems.push(`${id}: job ${job} has ${n} COMPLETE entries`);
    if (req.state === 3) {
      for (const job of Object.keys(chain.jobs)) {
        counts.completeJobs++;
        if (complete.get(job) !== 1)
          problems.push(`${id}: COMPLETE request, job ${job} has ${complete.get(job) ?? 0} COMPLETE entries`);
        const runs = completedRuns.get(`${id}/${job}`) ?? 0;
        if (chain.jobs[job].type.startsWith('h-') && runs !== 1)
          problems.push(`${id}: COMPLETE request, job ${job} completed ${runs} times in the JRs`);
      }
      if (req.finishedJobs !== req.totalJobs)
        problems.push(`${id}: COMPLETE with finishedJobs ${req.finishedJobs}/${req.totalJobs}`);
    }
    if (req.state === 4) {
      if (logs.some((l) => l.state === 4 && /^Job Runner .* was lost/.test(l.error))) counts.lostExplained++;
      else if (!logs.some((l) => l.state === 4 && l.error))
        problems.push(`${id}: FAIL without a FAIL entry that says why`);
    }
    if (req.finishedAt === null && [3, 4, 6].includes(req.state))
      problems.push(`${id}: final without finishedAt`);
  }
  const rmLogs = rms.map((r) => r.log()).join('');
  counts.suspendedHandoffs = (rmLogs.match(/"message":"request suspended"/g) ?? []).length;
  counts.resumed = (rmLogs.match(/"message":"request resumed"/g) ?? []).length;
  counts.problems = problems.length;
  counts.seconds = Number(elapsed());
}

let code = 0;
try {
  await main();
} catch (err) {
  problems.push(`soak aborted: ${err.stack ?? err}`);
  counts.problems = problems.length;
} finally {
  for (const jr of jrs) await jr.stop('SIGKILL').catch(() => undefined);
  for (const rm of rms) await rm.stop('SIGTERM').catch(() => undefined);
  if (!opt.keep) {
    await conn?.query(`DROP DATABASE IF EXISTS \`${dbName}\``).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
  await conn?.end().catch(() => undefined);
}
if (problems.length > 0) {
  code = 1;
  for (const p of problems.slice(0, 50)) process.stderr.write(`PROBLEM ${p}\n`);
}
const c = counts;
process.stdout.write(
  [
    `soak: ${c.requests} requests (${c.created} created, ${c.createFailed} refused by every JR and FAIL, ${c.createErrors} create errors), ${c.userStops} user stops, seed ${c.seed}`,
    `faults: ${c.faults.kill9} kill -9, ${c.faults.sigterm} SIGTERM hand-offs, ${c.faults.sigstop} SIGSTOP past the lease; ${c.jrRestarts} JR restarts`,
    `final states: ${Object.entries(c.byState)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ${c.lostExplained} FAIL with a "Job Runner … was lost" entry`,
    `suspended ${c.suspendedHandoffs}, resumed ${c.resumed}`,
    `jobs ${c.jobs} (${c.completeJobs} in COMPLETE requests), job-log entries ${c.logEntries}, COMPLETE entries ${c.completeEntries}`,
    `problems: ${c.problems}; ${c.seconds}s`,
    ...(opt.json ? [JSON.stringify(c)] : []),
    '',
  ].join('\n'),
);
process.exit(code);
