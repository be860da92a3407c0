/**
 * Shared pieces of the high-availability tests: RM and JR processes wired
 * for short leases, a ledger of job runs written by the h-* test jobs of
 * every process, polling helpers, and a private MariaDB server that a test
 * may kill and restart (never the machine's shared one).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFinalState, type JobLog, type Request, RmClient, State, stateName } from '@spincycle/protocol';
import mysql from 'mysql2/promise';
import { expect } from 'vitest';
import {
  freePort,
  type JrOptions,
  REPO_ROOT,
  type RmOptions,
  type ServiceProcess,
  startJr,
  startRm,
} from '../support/system.js';
import { until as untilShared } from '../support/until.js';

const HA_SPECS = join(REPO_ROOT, 'test/ha/specs');
const HA_JOBS = join(REPO_ROOT, 'test/ha/fixtures/ha-jobs.mjs');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `until` with the HA tests' defaults: 20 s, every 50 ms, errors of a restarting service count as "not yet". */
export const until = <T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> => untilShared(what, fn, { timeoutMs, everyMs, retryErrors: true });

/** A fresh directory the h-* jobs of every process write their ledger into. */
export function newLedger(): string {
  return mkdtempSync(join(tmpdir(), 'spincycle-ha-ledger-'));
}

export interface LedgerEvent {
  event: 'start' | 'complete' | 'stopped' | 'fail';
  requestId: string;
  jobId: string;
  pid: number;
}

export function readLedger(dir: string): LedgerEvent[] {
  const file = join(dir, 'ledger.txt');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [event, requestId, jobId, pid] = line.split(' ');
      return { event, requestId, jobId, pid: Number(pid) } as LedgerEvent;
    });
}

/** RM env for fast HA behaviour in tests. */
function haRmEnv(over: Record<string, string> = {}): Record<string, string> {
  return {
    SPINCYCLE_JR_LEASE: '3s',
    SPINCYCLE_JR_SWEEP_INTERVAL: '300ms',
    SPINCYCLE_RESUMER_INTERVAL: '300ms',
    ...over,
  };
}

export function startHaRm(
  opts: Partial<RmOptions> & { jrUrl: string; env?: Record<string, string> },
): Promise<ServiceProcess> {
  return startRm({
    db: 'mysql',
    specsDir: HA_SPECS,
    jobsModule: HA_JOBS,
    ...opts,
    env: haRmEnv(opts.env),
  });
}

export function startHaJr(
  opts: Partial<JrOptions> & { rmUrl: string; ledger: string; env?: Record<string, string> },
): Promise<ServiceProcess> {
  return startJr({
    jobsModule: HA_JOBS,
    ...opts,
    env: {
      SPINCYCLE_HA_LEDGER: opts.ledger,
      SPINCYCLE_RM_CLIENT_TIMEOUT: '3s',
      SPINCYCLE_SHUTDOWN_GRACE: '15s',
      ...opts.env,
    },
  });
}

export interface HaSystem {
  rm: ServiceProcess;
  jr: ServiceProcess;
  /** A client of the RM that does not retry. */
  client: RmClient;
  ledger: string;
  /** The JR's port, the RM's only JR address. */
  port: number;
}

/**
 * One RM and one JR wired to each other (HA settings, a fresh ledger); both go into `procs`,
 * which the test file stops afterwards.
 */
export async function startHaSystem(
  procs: ServiceProcess[],
  opts: { mysqlUrl?: string; rmEnv?: Record<string, string>; jrEnv?: Record<string, string> } = {},
): Promise<HaSystem> {
  const ledger = newLedger();
  const port = await freePort();
  const rm = await startHaRm({ jrUrl: `http://127.0.0.1:${port}`, mysqlUrl: opts.mysqlUrl, env: opts.rmEnv });
  procs.push(rm);
  const jr = await startHaJr({ rmUrl: rm.url, ledger, port, env: opts.jrEnv });
  procs.push(jr);
  return { rm, jr, client: new RmClient({ baseURL: rm.url, retry: { attempts: 1 } }), ledger, port };
}

/** Polls until request `id` is final (COMPLETE, FAIL or STOPPED) and returns it. */
export function untilFinal(
  client: RmClient,
  id: string,
  timeoutMs: number,
  what = `request ${id} to finish`,
): Promise<Request> {
  return until(
    what,
    async () => {
      const r = await client.getRequest(id);
      return isFinalState(r.state) ? r : undefined;
    },
    timeoutMs,
  );
}

/** `requests` once each is final, in order (each waited for up to `timeoutMs`). */
export async function allFinal(client: RmClient, requests: Request[], timeoutMs: number): Promise<Request[]> {
  const done: Request[] = [];
  for (const r of requests) done.push(await untilFinal(client, r.id, timeoutMs));
  return done;
}

/**
 * Every job-log entry of `req` arrived exactly once: the log invariants hold (logProblems), there
 * is one h-nap entry per run the ledger `events` saw start, and one entry per job of the chain.
 */
export async function expectEntriesOnce(
  client: RmClient,
  req: Request,
  events: LedgerEvent[],
): Promise<void> {
  expect(await logProblems(client, req)).toEqual([]);
  const logs = await client.getJobLogs(req.id);
  const runs = events.filter((e) => e.requestId === req.id && e.event === 'start').length;
  expect(logs.filter((l) => l.type === 'h-nap')).toHaveLength(runs);
  expect(logs).toHaveLength(req.totalJobs);
}

/** `try:STATE` of the entries of the job named `name`, by try. */
export function tries(logs: JobLog[], name: string): string[] {
  return logs
    .filter((l) => l.name === name)
    .sort((a, b) => a.try - b.try)
    .map((l) => `${l.try}:${stateName(l.state)}`);
}

/** The pid a job's entry says it ran in (h-* jobs put `pid=N` in stdout). */
export function pidOf(entry: JobLog): number | undefined {
  const m = /pid=(\d+)/.exec(entry.stdout);
  return m ? Number(m[1]) : undefined;
}

/**
 * The job-log invariants every test and the soak check: no (job, try) twice
 * (the key guarantees it), at most one COMPLETE entry per job, and for a
 * COMPLETE request exactly one per job of its chain (jobs of a sequence that
 * can be retried: at least one). Returns problems.
 */
export async function logProblems(client: RmClient, req: Request): Promise<string[]> {
  const problems: string[] = [];
  const logs = await client.getJobLogs(req.id);
  const complete = new Map<string, number>();
  const keys = new Set<string>();
  for (const l of logs) {
    const k = `${l.jobId}/${l.try}`;
    if (keys.has(k)) problems.push(`${req.id}: entry ${k} twice`);
    keys.add(k);
    if (l.state === State.COMPLETE) complete.set(l.jobId, (complete.get(l.jobId) ?? 0) + 1);
  }
  const chain = await client.getJobChain(req.id);
  // Jobs in a sequence that may be retried legitimately complete once per sequence try.
  const retried = (id: string) => (chain.jobs[chain.jobs[id]?.sequenceId ?? '']?.sequenceRetry ?? 0) > 0;
  for (const [job, n] of complete)
    if (n > 1 && !retried(job)) problems.push(`${req.id}: job ${job} has ${n} COMPLETE entries`);
  if (req.state === State.COMPLETE) {
    for (const id of Object.keys(chain.jobs)) {
      const n = complete.get(id) ?? 0;
      if (retried(id) ? n < 1 : n !== 1)
        problems.push(`${req.id}: COMPLETE request, job ${id} has ${n} COMPLETE entries`);
    }
    if (req.finishedJobs !== req.totalJobs)
      problems.push(`${req.id}: COMPLETE with finishedJobs ${req.finishedJobs}/${req.totalJobs}`);
  }
  return problems;
}

/**
 * A private MariaDB server in a temp directory, for tests that kill and
 * restart the database. The machine's shared MariaDB is never touched.
 */
export class PrivateMariaDb {
  port = 0;
  private proc: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'spincycle-mariadb-'));
  output = '';

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  async init(): Promise<this> {
    this.port = await freePort();
    const r = spawnSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        '--auth-root-authentication-method=normal',
        '--user=root',
        '--skip-test-db',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`mariadb-install-db failed: ${r.stdout}${r.stderr}`);
    await this.start();
    return this;
  }

  /** Start mariadbd on the same data directory and port; resolves when it answers. */
  async start(): Promise<void> {
    const proc = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        `--socket=${this.dir}/mysqld.sock`,
        `--pid-file=${this.dir}/mysqld.pid`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        '--max-connections=500',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (c: Buffer) => {
      this.output += c.toString();
    });
    proc.stderr?.on('data', (c: Buffer) => {
      this.output += c.toString();
    });
    this.proc = proc;
    await until(
      'the private MariaDB to answer',
      async () => {
        if (proc.exitCode !== null) throw new Error(`mariadbd exited ${proc.exitCode}: ${this.output}`);
        const c = await mysql.createConnection(this.url);
        await c.end();
        return true;
      },
      60_000,
      100,
    );
  }

  /** kill -9 the server (a crash: InnoDB recovers at the next start). */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async createDatabase(name: string): Promise<string> {
    const c = await mysql.createConnection(this.url);
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    await c.end();
    return `${this.url}/${name}`;
  }

  async destroy(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
