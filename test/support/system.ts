/**
 * Starts real Request Manager and Job Runner processes for tests, on free
 * loopback ports, against MariaDB (a fresh database per system) or a fresh
 * SQLite file. Everything talks over real HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RmClient } from '@spincycle/protocol';
import mysql from 'mysql2/promise';
import { until } from './until.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RM_MAIN = join(REPO_ROOT, 'services/request-manager/dist/main.js');
const JR_MAIN = join(REPO_ROOT, 'services/job-runner/dist/main.js');

export type DbKind = 'mysql' | 'sqlite';

/** A free TCP port on 127.0.0.1 (released before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

let dbCounter = 0;

/** A new empty MySQL database for one system; returns its mysql:// URL. */
export async function newMysqlDatabase(): Promise<string> {
  const runUrl = process.env.SPINCYCLE_TEST_MYSQL_URL;
  if (!runUrl) throw new Error('SPINCYCLE_TEST_MYSQL_URL is not set (test/support/global-setup.ts sets it)');
  const u = new URL(runUrl);
  const name = `${u.pathname.slice(1)}_${process.pid}_${++dbCounter}`;
  const server = `${u.protocol}//${u.username}${u.password ? `:${u.password}` : ''}@${u.host}`;
  const conn = await mysql.createConnection(server);
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await conn.end();
  return `${server}/${name}`;
}

export class ServiceProcess {
  readonly output: string[] = [];
  exited: Promise<number | null>;
  constructor(
    readonly name: string,
    readonly url: string,
    readonly proc: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  get log(): string {
    return this.output.join('');
  }

  /** Send a signal and wait for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** How the harness reaches a service over HTTPS: the CA to trust and, when it verifies clients, a client certificate. */
export interface HarnessTls {
  ca: string;
  cert?: string;
  key?: string;
}

/** An https agent for a HarnessTls (files read now). */
export function harnessAgent(tls: HarnessTls): HttpsAgent {
  return new HttpsAgent({
    ca: readFileSync(tls.ca),
    ...(tls.cert && tls.key ? { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } : {}),
  });
}

function httpsOk(url: string, agent: HttpsAgent): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { agent }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', reject);
  });
}

async function waitHealthy(svc: ServiceProcess, timeoutMs = 30_000, tls?: HarnessTls): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const agent = tls ? harnessAgent(tls) : undefined;
  for (;;) {
    if (svc.proc.exitCode !== null)
      throw new Error(`${svc.name} exited with ${svc.proc.exitCode}:\n${svc.log}`);
    try {
      if (agent ? await httpsOk(`${svc.url}/health`, agent) : (await fetch(`${svc.url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${svc.name} not healthy after ${timeoutMs} ms:\n${svc.log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface SpawnOptions {
  port?: number;
  env?: Record<string, string | undefined>;
  /** Config file passed as the first argument. */
  configFile?: string;
  waitHealthy?: boolean;
  /** The service serves HTTPS (its TLS config comes through `env`/`configFile`): the URL is https and the health check uses this. */
  tls?: HarnessTls;
}

function spawnService(
  name: string,
  main: string,
  url: string,
  opts: SpawnOptions,
  env: Record<string, string | undefined>,
): ServiceProcess {
  const proc = spawn(process.execPath, [main, ...(opts.configFile ? [opts.configFile] : [])], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LOG_FORMAT: 'json',
      LOG_LEVEL: process.env.SPINCYCLE_TEST_LOG_LEVEL ?? 'warn',
      ...env,
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(name, url, proc);
}

export interface RmOptions extends SpawnOptions {
  db: DbKind;
  /** mysql:// URL; a fresh database is made when omitted. */
  mysqlUrl?: string;
  /** SQLite data dir; a fresh temp dir when omitted. */
  dataDir?: string;
  specsDir: string;
  /** One URL or a comma-separated list. */
  jrUrl: string;
  jobsModule?: string;
}

export async function startRm(opts: RmOptions): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = {
    SPINCYCLE_SERVER_ADDR: `127.0.0.1:${port}`,
    SPINCYCLE_SPECS_DIR: opts.specsDir,
    SPINCYCLE_JR_CLIENT_URL: opts.jrUrl,
    SPINCYCLE_JOBS_MODULE: opts.jobsModule,
  };
  if (opts.db === 'mysql') env.SPINCYCLE_MYSQL_DSN = opts.mysqlUrl ?? (await newMysqlDatabase());
  else env.SPINCYCLE_DATA_DIR = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'spincycle-rm-'));
  const svc = spawnService('request-manager', RM_MAIN, url, opts, env);
  if (opts.waitHealthy !== false) await waitHealthy(svc, undefined, opts.tls);
  return svc;
}

export interface JrOptions extends SpawnOptions {
  rmUrl: string;
  jobsModule?: string;
  maxConcurrentJobs?: number;
}

export async function startJr(opts: JrOptions): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const svc = spawnService('job-runner', JR_MAIN, url, opts, {
    SPINCYCLE_SERVER_ADDR: `127.0.0.1:${port}`,
    SPINCYCLE_RM_CLIENT_URL: opts.rmUrl,
    SPINCYCLE_JOBS_MODULE: opts.jobsModule,
    SPINCYCLE_JOBS_MAX_CONCURRENT:
      opts.maxConcurrentJobs === undefined ? undefined : String(opts.maxConcurrentJobs),
  });
  if (opts.waitHealthy !== false) await waitHealthy(svc, undefined, opts.tls);
  return svc;
}

export interface System {
  rm: ServiceProcess;
  jr: ServiceProcess;
  client: RmClient;
  stop(): Promise<void>;
}

/** One RM and one JR wired to each other. */
export async function startSystem(opts: {
  db: DbKind;
  specsDir: string;
  jobsModule?: string;
  rmEnv?: Record<string, string>;
  jrEnv?: Record<string, string>;
  maxConcurrentJobs?: number;
}): Promise<System> {
  const [rmPort, jrPort] = [await freePort(), await freePort()];
  const jrUrl = `http://127.0.0.1:${jrPort}`;
  const rm = await startRm({
    db: opts.db,
    specsDir: opts.specsDir,
    jrUrl,
    jobsModule: opts.jobsModule,
    port: rmPort,
    env: opts.rmEnv,
  });
  const jr = await startJr({
    rmUrl: rm.url,
    port: jrPort,
    jobsModule: opts.jobsModule,
    env: opts.jrEnv,
    maxConcurrentJobs: opts.maxConcurrentJobs,
  });
  const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
  return {
    rm,
    jr,
    client,
    async stop() {
      await jr.stop();
      await rm.stop();
    },
  };
}

/** Poll until the request reaches one of `states` (default: a final state) and return it. */
export function waitForState(client: RmClient, id: string, states: number[] = [3, 4, 6], timeoutMs = 30_000) {
  return until(
    `request ${id} to reach state ${states.join('/')}`,
    async () => {
      const req = await client.getRequest(id);
      return states.includes(req.state) ? req : undefined;
    },
    timeoutMs,
  );
}
