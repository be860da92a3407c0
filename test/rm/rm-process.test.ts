/**
 * The Request Manager as a process (node services/request-manager/dist/main.js),
 * without a Job Runner: boot, the migrate command, refusing bad specs and bad
 * config, a create that cannot reach any JR, graceful shutdown. Both databases.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RmClient } from '@spincycle/protocol';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { freePort, newMysqlDatabase, REPO_ROOT, RM_MAIN, startRm } from '../support/system.js';

const SPECS = join(REPO_ROOT, 'services/request-manager/test/fixtures/specs');
const BAD_SPECS = join(REPO_ROOT, 'services/request-manager/test/fixtures/bad-specs');

function runMain(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [RM_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

/** mysql://u:p@h:port/db → the original's Go DSN u:p@tcp(h:port)/db */
function goDsn(url: string): string {
  const u = new URL(url);
  return `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}@tcp(${u.host})${u.pathname}`;
}

describe.each(['sqlite', 'mysql'] as const)('RM process on %s', (db) => {
  it('when no JR can be reached, then create answers 502 and the request ends FAIL; SIGTERM exits 0', async () => {
    const deadJr = `http://127.0.0.1:${await freePort()}`;
    const rm = await startRm({ db, specsDir: SPECS, jrUrl: deadJr, env: { LOG_LEVEL: 'info' } });
    try {
      const res = await fetch(`${rm.url}/api/v1/requests`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"type":"no-args"}',
      });
      expect(res.status).toBe(502);
      expect(res.headers.get('x-spincycle-version')).toBe('2.1.1');
      expect(((await res.json()) as { message: string }).message).toContain(deadJr);
      const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
      const [req] = await client.findRequests({ type: 'no-args' });
      expect(req?.state).toBe(4);
      expect(req?.finishedAt).not.toBeNull();
    } finally {
      expect(await rm.stop('SIGTERM')).toBe(0);
    }
    expect(rm.log).toContain('close database');
  });
});

describe('RM process', () => {
  it('when a spec has errors, then it refuses to start and prints each error with file, line, sequence and node', async () => {
    const rm = await startRm({
      db: 'sqlite',
      specsDir: BAD_SPECS,
      jrUrl: 'http://127.0.0.1:1',
      waitHealthy: false,
    });
    const code = await rm.exited;
    expect(code).toBe(1);
    expect(rm.log).toContain('broken.yaml:14: sequence broken: node one');
    expect(rm.log).toContain('missing-node');
  });

  it('when the config is bad, then it exits 2 naming the key', () => {
    const r = runMain([], { SPINCYCLE_JR_CLIENT_TIMEOUT: 'whenever', SPINCYCLE_SPECS_DIR: SPECS });
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toContain('jr_client.timeout');
  });

  it('the migrate command creates the schema once (MySQL, Go DSN), then finds nothing to do', async () => {
    const url = await newMysqlDatabase();
    const env = { SPINCYCLE_MYSQL_DSN: goDsn(url) };
    const first = runMain(['migrate'], env);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('InitialSchema1764400000000');
    const second = runMain(['migrate'], env);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('database schema is up to date');
    const conn = await mysql.createConnection(url);
    const [rows] = await conn.query('SHOW TABLES');
    await conn.end();
    const tables = (rows as Array<Record<string, string>>).map((r) => Object.values(r)[0]).sort();
    expect(tables).toEqual([
      'idempotency_keys',
      'job_log',
      'job_runners',
      'leases',
      'notifications',
      'request_archive_parts',
      'request_archives',
      'request_args',
      'request_lock_waits',
      'request_locks',
      'requests',
      'schedule_runs',
      'spincycle_migrations',
      'suspended_job_chains',
    ]);
  });

  it('the migrate command works on SQLite too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-migrate-'));
    const r = runMain(['migrate'], { SPINCYCLE_DATA_DIR: dir });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('InitialSchema1764400000000');
  });

  it('help lists every config key with its environment variable', () => {
    const r = runMain(['help'], {});
    expect(r.status).toBe(0);
    for (const key of [
      'server.addr',
      'mysql.dsn',
      'SPINCYCLE_MYSQL_DSN',
      'data.dir',
      'jr_client.url',
      'resumer.ttl',
    ])
      expect(r.stdout).toContain(key);
  });
});
