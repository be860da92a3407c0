#!/usr/bin/env node
// Load driver for `pnpm bench`: drives a Request Manager over its public HTTP API
// only (so it can measure any compatible RM) and prints one JSON line of figures.
// The RM must load bench/specs and have the noop, sleep and split jobs.
//
//   node bench/load-driver.mjs --url http://127.0.0.1:32308 --workload wide --n 1000
//   node bench/load-driver.mjs --url URL --workload deep
//   node bench/load-driver.mjs --url URL --workload concurrent --total 500 --clients 20 --sleep 100
//   node bench/load-driver.mjs --url URL --workload wide --rss 1234,5678   (adds RSS of those pids)
//   node bench/load-driver.mjs --url URL1,URL2 --workload concurrent --check-logs   (round-robin over RMs)
//
// Workloads: wide (one bench-wide request over --n hosts), deep (one bench-deep request,
// 200 jobs in a line), concurrent (--total bench-sleep requests from --clients clients at
// once, then GET and find latency), or all. Figures are milliseconds unless named otherwise.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Final request states: COMPLETE, FAIL, STOPPED. */
const FINAL = new Set([3, 4, 6]);
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, digits) => Number(x.toFixed(digits));

/** Nearest-rank percentile `p` (0–100) of `samples`, two decimals; null when there are none. */
export function percentile(samples, p) {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[rank], 2);
}

/** Resident set size of process `pid` in MB (Linux /proc), or null where it cannot be read. */
export function rssMb(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/** A client of one RM's API that times each call. */
function rmApi(baseUrl) {
  const api = `${baseUrl.replace(/\/+$/, '')}/api/v1`;
  const timed = async (path, init) => {
    const t0 = performance.now();
    const res = await fetch(`${api}${path}`, init);
    const body = await res.json().catch(() => undefined);
    return { status: res.status, body, ms: performance.now() - t0 };
  };
  return {
    async create(type, args) {
      const r = await timed('/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type, args }),
      });
      if (r.status !== 201) throw new Error(`POST ${type}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return { id: r.body.id, ms: r.ms };
    },
    get: (path) => timed(path),
    /**
     * The request (as find lists it: no JobChain) once it is final; polls find for `type`,
     * waiting a tenth of the time so far between polls (2 ms at least, `everyMs` at most), so
     * the poll interval adds at most about 10% to a short request's makespan. For one big
     * request at a time: GET /requests/{id} carries the whole JobChain (about 20 MB at
     * 140,000 jobs), and fetching that 50 times a second would measure the poller, not the
     * RM and JR.
     */
    async listedFinal(id, type, everyMs, timeoutMs = 600_000, since = performance.now()) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const { body } = await timed(`/requests?type=${encodeURIComponent(type)}&limit=20`);
        const listed = Array.isArray(body) ? body.find((r) => r.id === id) : undefined;
        if (listed && FINAL.has(listed.state)) return listed;
        if (performance.now() > deadline) throw new Error(`request ${id} not final after ${timeoutMs} ms`);
        await pause(Math.min(everyMs, Math.max(2, (performance.now() - since) / 10)));
      }
    },
    /** The request once it is final; polls every `everyMs`. */
    async final(id, everyMs, timeoutMs = 600_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const { body } = await timed(`/requests/${id}`);
        if (body && FINAL.has(body.state)) return body;
        if (performance.now() > deadline) throw new Error(`request ${id} not final after ${timeoutMs} ms`);
        await pause(everyMs);
      }
    },
  };
}

/** One request from POST to final state: create time, makespan, jobs, log size. */
async function oneRequest(rm, type, args) {
  const t0 = performance.now();
  const { id, ms } = await rm.create(type, args);
  const done = await rm.listedFinal(id, type, 20, undefined, t0);
  const makespan = performance.now() - t0;
  const log = await rm.get(`/requests/${id}/log`);
  const got = await rm.get(`/requests/${id}`);
  return {
    id,
    state: done.state,
    totalJobs: done.totalJobs,
    finishedJobs: done.finishedJobs,
    logEntries: Array.isArray(log.body) ? log.body.length : null,
    createMs: round(ms, 1),
    getMs: round(got.ms, 1),
    logMs: round(log.ms, 1),
    makespanMs: round(makespan, 1),
    msPerJob: round(makespan / Math.max(1, done.totalJobs), 3),
  };
}

export function wide(rm, n) {
  const hosts = Array.from({ length: n }, (_, i) => `host${i}`).join(',');
  return oneRequest(rm, 'bench-wide', { hosts });
}

export function deep(rm) {
  return oneRequest(rm, 'bench-deep', {});
}

/**
 * `total` bench-sleep requests from `clients` clients, then read latency on what they made.
 * `rms` is one RM client or several: the creates go round-robin over them. With `checkLogs`
 * every request's job log is read and counted against its jobs (`logMismatches`).
 */
export async function concurrent(rms, total, clients, sleepMs, checkLogs = false) {
  const pool = Array.isArray(rms) ? rms : [rms];
  const rm = pool[0];
  const createMs = [];
  const made = [];
  let started = 0;
  const t0 = performance.now();
  const client = async () => {
    while (started < total) {
      const on = pool[started++ % pool.length];
      const { id, ms } = await on.create('bench-sleep', { sleepTime: String(sleepMs) });
      createMs.push(ms);
      made.push({ id, on });
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const submitMs = performance.now() - t0;
  const ids = made.map((m) => m.id);
  const states = {};
  const finals = [];
  for (const { id, on } of made) {
    const done = await on.final(id, 50);
    finals.push({ id, on, done });
    states[done.state] = (states[done.state] ?? 0) + 1;
  }
  const allDoneMs = performance.now() - t0;
  const getMs = [];
  for (let i = 0; i < 200; i++) getMs.push((await rm.get(`/requests/${ids[i % ids.length]}`)).ms);
  const findMs = [];
  for (let i = 0; i < 50; i++)
    findMs.push((await rm.get(`/requests?type=bench-sleep&limit=50&offset=${i * 10}`)).ms);
  return {
    total,
    clients,
    states,
    submitSeconds: round(submitMs / 1000, 2),
    createPerSecond: round(total / (submitMs / 1000), 1),
    allDoneSeconds: round(allDoneMs / 1000, 2),
    createP50: percentile(createMs, 50),
    createP99: percentile(createMs, 99),
    getP50: percentile(getMs, 50),
    getP99: percentile(getMs, 99),
    findP50: percentile(findMs, 50),
    findP99: percentile(findMs, 99),
    ...(checkLogs ? { logMismatches: await logMismatches(finals) } : {}),
  };
}

/** Requests whose job log does not hold one entry per job (or whose jobs did not all finish). */
async function logMismatches(finals) {
  let bad = 0;
  for (const { id, on, done } of finals) {
    const log = await on.get(`/requests/${id}/log`);
    const entries = Array.isArray(log.body) ? log.body.length : -1;
    if (entries !== done.totalJobs || done.finishedJobs !== done.totalJobs) bad++;
  }
  return bad;
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:32308' },
      workload: { type: 'string', default: 'all' },
      n: { type: 'string', default: '1000' },
      total: { type: 'string', default: '500' },
      clients: { type: 'string', default: '20' },
      sleep: { type: 'string', default: '100' },
      rss: { type: 'string' },
      'check-logs': { type: 'boolean', default: false },
    },
  });
  const workload = values.workload;
  if (!['wide', 'deep', 'concurrent', 'all'].includes(workload))
    throw new Error(`--workload must be wide, deep, concurrent or all, not ${workload}`);
  // Several comma-separated URLs: the concurrent creates go round-robin over them.
  const rms = values.url.split(',').map(rmApi);
  const rm = rms[0];
  const out = { url: values.url };
  // One untimed call per RM first: a new process's first fetch loads node's HTTP client
  // (undici) and opens the connection, some 50 ms that no RM can help.
  for (const r of rms) await r.get('/request-list');
  const runs = (w) => workload === w || workload === 'all';
  if (runs('wide')) out.wide = await wide(rm, Number(values.n));
  if (runs('deep')) out.deep = await deep(rm);
  if (runs('concurrent'))
    out.concurrent = await concurrent(
      rms,
      Number(values.total),
      Number(values.clients),
      Number(values.sleep),
      values['check-logs'],
    );
  if (values.rss)
    out.rssMb = Object.fromEntries(values.rss.split(',').map((pid) => [pid, rssMb(Number(pid))]));
  console.log(JSON.stringify(out));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
