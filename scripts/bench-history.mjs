#!/usr/bin/env node
// `pnpm bench:history`: the RM with a long history. Seeds a fresh MariaDB database with N
// realistic requests (mostly final, args, archived chains, ~10 job-log rows each) in big
// multi-row INSERTs, starts an RM and a JR on it, and measures reads (find by type + state,
// GET, one request's job log) and create throughput against the same RM on an empty
// database. Prints each figure beside its target (the targets are for 1,000,000 requests).
// A benchmark, not a test: it only reports.
//
//   pnpm bench:history [--requests N] [--logs N] [--creates N] [--purge] [--explain] [--keep-db]
//                      [--reuse-db NAME]
//
// --requests: history size (default 100,000; the targets are for --requests 1000000);
// --logs: job-log rows per request (default 10); --creates: creates per throughput run (default 300);
// --purge: also run the retention purge (keep 180d: about half the history) and measure rows per
//   second and GET latency meanwhile; --explain: print EXPLAIN of the hot queries;
// --keep-db: leave the seeded database (its name is printed); --reuse-db NAME: measure on a
//   database kept before instead of seeding (--requests must say its size).
// Before measuring, the bench waits for InnoDB to write out what the seeding left dirty, and
// it alternates the create runs (history, empty, history, empty) so drift hits both alike.
// SPINCYCLE_BENCH_MYSQL is the server.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { percentile } from '../bench/load-driver.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const server = process.env.SPINCYCLE_BENCH_MYSQL ?? 'mysql://root@127.0.0.1:3306';
const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    logs: { type: 'string', default: '10' },
    creates: { type: 'string', default: '300' },
    purge: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
    'reuse-db': { type: 'string' },
  },
});
const N = Number(opts.requests);
const LOGS = Number(opts.logs);
const CREATES = Number(opts.creates);
const DAY = 86_400_000;
const TYPES = ['deploy', 'restart', 'rollback', 'scale-up', 'scale-down', 'failover', 'backup', 'upgrade'];
const round = (x, d = 2) => Number(x.toFixed(d));
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

/** A small deterministic generator, so runs are comparable. */
let rngState = 42;
const rand = () => {
  rngState = (rngState * 1103515245 + 12345) % 2147483648;
  return rngState / 2147483648;
};
const idOf = (i) => `hist${i.toString(36).padStart(16, '0')}`;

/** States as a history has them: mostly final. */
function stateFor(r) {
  if (r < 0.9) return 3; // COMPLETE
  if (r < 0.95) return 4; // FAIL
  if (r < 0.98) return 6; // STOPPED
  if (r < 0.99) return 7; // SUSPENDED
  return 1; // PENDING (nothing RUNNING: no Job Runner holds these chains)
}

/** A chain of `jobs` jobs as the RM archives it (a few KB, like a small deploy). */
function chainJson(id, type, jobs) {
  const chain = { requestId: id, jobs: {}, adjacencyList: {}, state: 1, finishedJobs: 0 };
  for (let j = 0; j < jobs; j++) {
    const jid = `${id.slice(-8)}j${j}`;
    chain.jobs[jid] = {
      id: jid,
      name: `${type}-step-${j}`,
      type: 'shell-command',
      bytes: null,
      state: 1,
      args: { host: `host-${j}.example.com`, cmd: `/usr/local/bin/${type} --step ${j}` },
      data: {},
      retry: 2,
      retryWait: 1000,
      sequenceId: `${id.slice(-8)}j0`,
      sequenceRetry: 0,
    };
    if (j > 0) chain.adjacencyList[`${id.slice(-8)}j${j - 1}`] = [jid];
  }
  return JSON.stringify(chain);
}

const REQ_COLS =
  '(`request_id`,`type`,`state`,`user`,`created_at`,`started_at`,`finished_at`,`total_jobs`,`finished_jobs`,`jr_url`)';

/** Rows of requests [from, to): requests, archives, args, job logs. */
function rowsFor(from, to, now) {
  const req = [];
  const arc = [];
  const args = [];
  const logs = [];
  for (let i = from; i < to; i++) {
    const id = idOf(i);
    const type = TYPES[Math.floor(rand() ** 2 * TYPES.length)];
    const state = stateFor(rand());
    const created = new Date(now - rand() * 365 * DAY);
    const final = state >= 3 && state !== 7;
    const finished = final ? new Date(created.getTime() + 30_000 + rand() * 600_000) : null;
    const jobs = LOGS;
    const host = `host-${i % 5000}.example.com`;
    req.push([
      id,
      type,
      state,
      `user${i % 200}`,
      created,
      created,
      finished,
      jobs,
      final ? jobs : 0,
      final ? null : 'http://jr:32307',
    ]);
    const given = { host, env: i % 3 ? 'prod' : 'staging' };
    const reqArgs = Object.entries(given).map(([Name, Value], Pos) => ({
      Pos,
      Name,
      Desc: '',
      Type: 'required',
      Given: true,
      Default: null,
      Value,
    }));
    arc.push([
      id,
      JSON.stringify({ Type: type, Args: given, User: `user${i % 200}` }),
      JSON.stringify(reqArgs),
      chainJson(id, type, jobs),
      null,
    ]);
    for (const [name, value] of Object.entries(given)) args.push([id, name, value]);
    const started = BigInt(created.getTime()) * 1_000_000n;
    for (let j = 0; j < LOGS; j++)
      logs.push([
        id,
        `${id.slice(-8)}j${j}`,
        1,
        `${type}-step-${j}`,
        'shell-command',
        state === 4 && j === LOGS - 1 ? 4 : 3,
        String(started + BigInt(j) * 1_000_000_000n),
        String(started + BigInt(j + 1) * 1_000_000_000n),
        0,
        '',
        `step ${j} of ${type} on ${host}: ok\n`,
        '',
      ]);
  }
  return { req, arc, args, logs };
}

async function seed(pool, now) {
  const CHUNK = 2000;
  const t0 = performance.now();
  // Two connections at once: the database, not this process, is the bottleneck.
  let next = 0;
  const worker = async () => {
    const c = await pool.getConnection();
    try {
      for (;;) {
        const from = next;
        if (from >= N) return;
        next = Math.min(N, from + CHUNK);
        const r = rowsFor(from, next, now);
        // The rows are new and consistent: no need to check uniqueness or keys row by row.
        await c.query('SET SESSION unique_checks = 0, foreign_key_checks = 0');
        await c.query('START TRANSACTION');
        await c.query(`INSERT INTO \`requests\` ${REQ_COLS} VALUES ?`, [r.req]);
        await c.query(
          'INSERT INTO `request_archives` (`request_id`,`create_request`,`args`,`job_chain`,`secret_args`) VALUES ?',
          [r.arc],
        );
        await c.query('INSERT INTO `request_args` (`request_id`,`name`,`value`) VALUES ?', [r.args]);
        for (let k = 0; k < r.logs.length; k += 5000)
          await c.query(
            'INSERT INTO `job_log` (`request_id`,`job_id`,`try`,`name`,`type`,`state`,`started_at`,`finished_at`,`exit`,`error`,`stdout`,`stderr`) VALUES ?',
            [r.logs.slice(k, k + 5000)],
          );
        await c.query('COMMIT');
        if (next % 100_000 < CHUNK)
          process.stderr.write(`seeded ${next} requests (${round((performance.now() - t0) / 1000, 1)} s)\n`);
      }
    } finally {
      c.release();
    }
  };
  await Promise.all([worker(), worker()]);
  return (performance.now() - t0) / 1000;
}

async function up(url) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {}
    await pause(100);
  }
  throw new Error(`${url} did not come up`);
}

const children = [];
// The services never outlive the bench, whatever ends it.
process.on('exit', () => {
  for (const p of children) if (p.exitCode === null) p.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** An RM (and a JR for it) on database `db`; extra env for the RM. */
async function startServices(db, extra = {}) {
  const [rmPort, jrPort] = [await freePort(), await freePort()];
  const rmUrl = `http://127.0.0.1:${rmPort}`;
  const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
  const rm = spawn(process.execPath, [join(root, 'services/request-manager/dist/main.js')], {
    env: {
      ...env,
      SPINCYCLE_SERVER_ADDR: `127.0.0.1:${rmPort}`,
      SPINCYCLE_MYSQL_DSN: `${server}/${db}`,
      SPINCYCLE_SPECS_DIR: join(root, 'bench/specs'),
      SPINCYCLE_JR_CLIENT_URL: `http://127.0.0.1:${jrPort}`,
      ...extra,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const jr = spawn(process.execPath, [join(root, 'services/job-runner/dist/main.js')], {
    env: { ...env, SPINCYCLE_SERVER_ADDR: `127.0.0.1:${jrPort}`, SPINCYCLE_RM_CLIENT_URL: rmUrl },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(rm, jr);
  await up(rmUrl);
  await up(`http://127.0.0.1:${jrPort}`);
  return {
    url: `${rmUrl}/api/v1`,
    stop: async () => {
      // The JR first: it delivers its last reports to the RM before the RM goes.
      for (const p of [jr, rm]) {
        p.kill('SIGTERM');
        await new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)));
      }
    },
  };
}

async function timed(url, allow404 = false) {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok && !(allow404 && res.status === 404)) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return performance.now() - t0;
}

/** p50 of `n` calls of `urlOf(i)` (after a few warm-up calls). */
async function p50(n, urlOf) {
  for (let i = 0; i < 5; i++) await timed(urlOf(i));
  const ms = [];
  for (let i = 0; i < n; i++) ms.push(await timed(urlOf(i)));
  return percentile(ms, 50);
}

const randomId = () => idOf(Math.floor(rand() * N));

async function reads(api) {
  return {
    find: await p50(200, (i) => `${api}/requests?type=${TYPES[i % TYPES.length]}&state=COMPLETE&limit=100`),
    get: await p50(500, () => `${api}/requests/${randomId()}`),
    log: await p50(300, () => `${api}/requests/${randomId()}/log`),
  };
}

/** Creates per second of bench-sleep from 10 clients. */
async function createRate(api) {
  let started = 0;
  const client = async () => {
    while (started < CREATES) {
      started++;
      const res = await fetch(`${api}/requests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'bench-sleep', args: { sleepTime: '0' } }),
      });
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`create: HTTP ${res.status}`);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 10 }, client));
  return CREATES / ((performance.now() - t0) / 1000);
}

/** The hot queries as the RM sends them (see the RM README, "Indexes"). */
const HOT = (id, cursorAt) => [
  [
    'find by type + state, newest first, first page',
    'SELECT * FROM `requests` r WHERE r.`type` = ? AND r.`state` IN (?) ORDER BY r.`created_at` DESC, r.`request_id` DESC LIMIT 100',
    ['deploy', 3],
  ],
  [
    'find by type + state, next page (cursor)',
    'SELECT * FROM `requests` r WHERE r.`type` = ? AND r.`state` IN (?) AND (r.`created_at` < ? OR (r.`created_at` = ? AND r.`request_id` < ?)) ORDER BY r.`created_at` DESC, r.`request_id` DESC LIMIT 100',
    ['deploy', 3, cursorAt, cursorAt, id],
  ],
  [
    'find by state only',
    'SELECT * FROM `requests` r WHERE r.`state` IN (?) ORDER BY r.`created_at` DESC, r.`request_id` DESC LIMIT 100',
    [3],
  ],
  [
    'GET request (with archive)',
    'SELECT r.*, a.`args`, a.`secret_args` FROM `requests` r LEFT JOIN `request_archives` a ON a.`request_id` = r.`request_id` WHERE r.`request_id` = ?',
    [id],
  ],
  [
    'job log of a request',
    'SELECT * FROM `job_log` WHERE `request_id` = ? ORDER BY `job_id`, `try` LIMIT 4',
    [id],
  ],
  [
    'sweeper: RUNNING requests',
    'SELECT `request_id`, `jr_url`, `started_at` FROM `requests` WHERE `state` = ?',
    [2],
  ],
  [
    'retention: old final requests',
    'SELECT `request_id` FROM `requests` WHERE `finished_at` < ? AND `state` IN (3,4,6) ORDER BY `finished_at` LIMIT 500',
    [new Date(Date.now() - 180 * DAY)],
  ],
  [
    'resumer: unclaimed suspended chains',
    'SELECT `request_id` FROM `suspended_job_chains` WHERE `rm_host` IS NULL ORDER BY `suspended_at` LIMIT 100',
    [],
  ],
];

async function explain(pool) {
  const id = idOf(Math.floor(N / 2));
  const [[row]] = await pool.query('SELECT `created_at` FROM `requests` WHERE `request_id` = ?', [id]);
  for (const [name, sql, params] of HOT(id, row.created_at)) {
    const [rows] = await pool.query(`EXPLAIN ${sql}`, params);
    console.log(`\n${name}\n  ${sql}`);
    for (const r of rows)
      console.log(
        `  table=${r.table} type=${r.type} key=${r.key} key_len=${r.key_len} ref=${r.ref} rows=${r.rows} Extra=${r.Extra ?? ''}`,
      );
  }
}

/** The retention purge (keep 180 days) with GET latency measured meanwhile from another client. */
async function purge(db, api) {
  const { openDataSource } = await import(join(root, 'services/request-manager/dist/db/data-source.js'));
  const { Db } = await import(join(root, 'services/request-manager/dist/db/db.js'));
  const { Retention, parseKeep } = await import(join(root, 'services/request-manager/dist/retention.js'));
  const { RetentionStore } = await import(
    join(root, 'services/request-manager/dist/stores/retention-store.js')
  );
  const { LeaseStore } = await import(join(root, 'services/request-manager/dist/stores/lease-store.js'));
  const ds = await openDataSource({ mysqlDsn: `${server}/${db}`, poolSize: 4 });
  const dbw = new Db(ds);
  await dbw.readLimits();
  const silent = { child: () => silent, info() {}, warn() {}, error() {}, debug() {} };
  const retention = new Retention(
    { store: new RetentionStore(dbw), leases: new LeaseStore(dbw), logger: silent },
    { keepMs: parseKeep('180d'), intervalMs: 3_600_000, batch: 500, pauseMs: 200, instanceId: 'bench' },
  );
  const getMs = [];
  let done = false;
  const reader = (async () => {
    // Purged ids answer 404: timed all the same.
    while (!done) getMs.push(await timed(`${api}/requests/${randomId()}`, true));
  })();
  const t0 = performance.now();
  const { batches } = await retention.runOnce();
  const seconds = (performance.now() - t0) / 1000;
  done = true;
  await reader;
  await retention.stop();
  await dbw.close();
  const rows = batches.reduce((n, b) => n + b.rows, 0);
  const requests = batches.reduce((n, b) => n + b.requests, 0);
  return {
    requests,
    rows,
    batches: batches.length,
    seconds: round(seconds, 1),
    rowsPerSecond: round(rows / seconds, 0),
    getP50: percentile(getMs, 50),
    getP99: percentile(getMs, 99),
  };
}

/**
 * Wait (at most 10 min) until InnoDB is quiet: its undo history purged and its background
 * writes down to a trickle (two samples in a row). Right after a big seeding it goes on
 * writing and purging for minutes, competing with the RM for the disk and the CPU.
 */
async function settle(pool) {
  const t0 = performance.now();
  const read = async () => {
    const [rows] = await pool.query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_data_writes','Innodb_history_list_length')",
    );
    return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  };
  let last = await read();
  let quiet = 0;
  while (performance.now() - t0 < 600_000) {
    await pause(2000);
    const now = await read();
    const writesPerSecond = (now.Innodb_data_writes - last.Innodb_data_writes) / 2;
    last = now;
    quiet = writesPerSecond < 20 && (now.Innodb_history_list_length ?? 0) < 1000 ? quiet + 1 : 0;
    if (quiet >= 2) break;
  }
  return (performance.now() - t0) / 1000;
}

const stamp = Date.now().toString(36);
const reuse = opts['reuse-db'];
const histDb = reuse ?? `spincycle_history_${stamp}`;
const emptyDb = `spincycle_history_empty_${stamp}`;
const admin = await mysql.createConnection(server);
if (!reuse) await admin.query(`CREATE DATABASE \`${histDb}\` CHARACTER SET utf8mb4`);
await admin.query(`CREATE DATABASE \`${emptyDb}\` CHARACTER SET utf8mb4`);
const pool = mysql.createPool({ uri: `${server}/${histDb}`, connectionLimit: 4, timezone: 'Z' });
let services;
try {
  // The RM migrates the database at its first start; then it is stopped while the history goes in.
  services = await startServices(histDb);
  await services.stop();
  const seedSeconds = reuse ? undefined : await seed(pool, Date.now());
  const [[{ logRows }]] = await pool.query('SELECT COUNT(*) AS logRows FROM `job_log`');
  await pool.query('ANALYZE TABLE `requests`, `request_args`, `request_archives`, `job_log`');
  const settleSeconds = await settle(pool);
  process.stderr.write(`InnoDB settled in ${round(settleSeconds, 0)} s\n`);
  if (opts.explain) await explain(pool);

  services = await startServices(histDb);
  const hist = await reads(services.url);
  await services.stop();
  // Alternating runs, each on a freshly started RM after a warm-up.
  const rate = async (db) => {
    services = await startServices(db);
    await createRate(services.url);
    const r = await createRate(services.url);
    await services.stop();
    services = undefined;
    return r;
  };
  const histRates = [];
  const emptyRates = [];
  for (let i = 0; i < 2; i++) {
    histRates.push(await rate(histDb));
    emptyRates.push(await rate(emptyDb));
  }
  const histRate = (histRates[0] + histRates[1]) / 2;
  const emptyRate = (emptyRates[0] + emptyRates[1]) / 2;
  let purged;
  if (opts.purge) {
    services = await startServices(histDb);
    purged = await purge(histDb, services.url);
    await services.stop();
    services = undefined;
  }

  const rows = [
    ['find type+state limit 100, p50', `${hist.find} ms`, '≤ 20 ms', hist.find <= 20],
    ['GET request, p50', `${hist.get} ms`, '≤ 5 ms', hist.get <= 5],
    ['job log of a request, p50', `${hist.log} ms`, '≤ 10 ms', hist.log <= 10],
    [
      'create rate with history / empty',
      `${histRates.map((r) => round(r, 1)).join(', ')}/s / ${emptyRates.map((r) => round(r, 1)).join(', ')}/s = ${round(histRate / emptyRate)}`,
      '≥ 0.8',
      histRate / emptyRate >= 0.8,
    ],
  ];
  console.log(
    seedSeconds === undefined
      ? `\nhistory: ${N} requests, ${logRows} job-log rows (database ${histDb}, kept from before)`
      : `\nhistory: ${N} requests, ${logRows} job-log rows, seeded in ${round(seedSeconds, 1)} s (${round(N / seedSeconds, 0)} requests/s)`,
  );
  console.log('| measure | result | target (at 1,000,000 requests) | met |');
  console.log('|---|---|---|---|');
  for (const [m, r, t, ok] of rows) console.log(`| ${m} | ${r} | ${t} | ${ok ? 'yes' : 'NO'} |`);
  if (purged)
    console.log(
      `\npurge (retention.keep 180d, batch 500, pause 200ms): ${purged.requests} requests, ${purged.rows} rows in ${purged.batches} batches, ${purged.seconds} s = ${purged.rowsPerSecond} rows/s; GET meanwhile p50 ${purged.getP50} ms, p99 ${purged.getP99} ms`,
    );
  if (N !== 1_000_000) console.log('(targets are for --requests 1000000)');
} finally {
  await services?.stop().catch(() => undefined);
  await pool.end();
  if (!opts['keep-db'] && !reuse) await admin.query(`DROP DATABASE IF EXISTS \`${histDb}\``);
  else console.log(`database kept: ${histDb}`);
  await admin.query(`DROP DATABASE IF EXISTS \`${emptyDb}\``);
  await admin.end();
}
