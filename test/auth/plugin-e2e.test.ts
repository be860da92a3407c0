/**
 * The auth plugin seam end to end (auth.module from a YAML config file), a JR
 * that lacks the internal token, start-up refusals for unsafe or broken auth
 * config, and the hash-token command. SQLite.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, RM_MAIN, type ServiceProcess, startJr, startRm } from '../support/system.js';
import { type AuthFiles, http, messageOf, SPECS, until, writeAuthFiles } from './support/auth.js';

const PLUGIN = join(REPO_ROOT, 'test/auth/fixtures/plugin.mjs');
const who = (user: string, roles = '') => ({ Authorization: `Plugin ${user}:${roles}` });
let files: AuthFiles;

beforeAll(() => {
  files = writeAuthFiles();
});

describe('auth.module plugin', () => {
  let rm: ServiceProcess;
  let jr: ServiceProcess;
  beforeAll(async () => {
    const config = join(files.dir, 'rm.yaml');
    writeFileSync(
      config,
      `auth:\n  module: ${PLUGIN}\n  internal_token_file: ${files.internal}\n  admin_roles: [sre]\n  strict: false\n`,
    );
    const jrPort = await freePort();
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `http://127.0.0.1:${jrPort}`,
      configFile: config,
    });
    jr = await startJr({
      rmUrl: rm.url,
      port: jrPort,
      env: { SPINCYCLE_RM_CLIENT_INTERNAL_TOKEN_FILE: files.internal },
    });
  });
  afterAll(async () => {
    await jr?.stop();
    await rm?.stop();
  });
  const create = (headers: Record<string, string>, type: string, args: Record<string, unknown> = {}) =>
    http(rm.url, 'POST', '/api/v1/requests', { type, args }, headers);
  const count = async () =>
    ((await http(rm.url, 'GET', '/api/v1/requests?limit=0', undefined, who('dev'))).json as unknown[]).length;

  it("authenticate's error is the 401 message", async () => {
    const a = await http(rm.url, 'GET', '/api/v1/requests', undefined, { Authorization: 'Bearer x' });
    expect([a.status, messageOf(a)]).toEqual([401, 'plugin: who are you?']);
  });

  it('the plugin names the user; an allowed request runs to COMPLETE', async () => {
    const res = await create(who('dana', 'deployer'), 'deploy', { app: 'web' });
    expect(res.status).toBe(201);
    const id = (res.json as { id: string; user: string }).id;
    expect((res.json as { user: string }).user).toBe('dana');
    const state = await until('COMPLETE', async () => {
      const s = (
        (await http(rm.url, 'GET', `/api/v1/requests/${id}`, undefined, who('dev'))).json as { state: number }
      ).state;
      return s === State.RUNNING ? undefined : s;
    });
    expect(state).toBe(State.COMPLETE);
  });

  it('authorize runs after the ACL granted: throwing or returning false denies with its reason, nothing stored', async () => {
    const before = await count();
    const frozen = await create(who('dana', 'deployer'), 'deploy', { app: 'frozen' });
    expect([frozen.status, messageOf(frozen)]).toEqual([
      401,
      'denied by auth plugin Authorize: start not allowed',
    ]);
    const mallory = await create(who('mallory', 'deployer'), 'deploy', { app: 'web' });
    expect([mallory.status, messageOf(mallory)]).toEqual([
      401,
      'denied by auth plugin Authorize: mallory may not start anything',
    ]);
    // ACL denial first: the plugin is not asked.
    const noRole = await create(who('mallory', 'intern'), 'deploy', { app: 'web' });
    expect(messageOf(noRole)).toMatch(/^denied: no caller role matches deploy ACL/);
    expect(await count()).toBe(before);
  });

  it('the plugin is not asked for admins or for types without ACLs', async () => {
    expect((await create(who('root', 'sre'), 'deploy', { app: 'frozen' })).status).toBe(201);
    expect((await create(who('mallory'), 'open')).status).toBe(201);
  });
});

describe('a JR without the internal token', () => {
  it('cannot report to the RM: the request stays RUNNING with no job log', async () => {
    const jrPort = await freePort();
    const rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `http://127.0.0.1:${jrPort}`,
      env: { SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: files.internal },
    });
    const jr = await startJr({ rmUrl: rm.url, port: jrPort, env: { SPINCYCLE_SHUTDOWN_GRACE: '1s' } });
    try {
      const res = await http(rm.url, 'POST', '/api/v1/requests', { type: 'open', args: {} });
      expect(res.status).toBe(201);
      const id = (res.json as { id: string }).id;
      await until('the JR to be refused', async () => (/401/.test(jr.log) ? true : undefined));
      const req = (await http(rm.url, 'GET', `/api/v1/requests/${id}`)).json as { state: number };
      expect(req.state).toBe(State.RUNNING);
      expect((await http(rm.url, 'GET', `/api/v1/requests/${id}/log`)).json).toEqual([]);
    } finally {
      await jr.stop('SIGKILL');
      await rm.stop();
    }
  });
});

function runRm(args: string[], env: Record<string, string> = {}, input?: string) {
  const proc = spawn(process.execPath, [RM_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => (stdout += c));
  proc.stderr.on('data', (c) => (stderr += c));
  proc.stdin.end(input ?? '');
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('start-up refusals and hash-token', () => {
  const base = async () => ({
    SPINCYCLE_SPECS_DIR: SPECS,
    SPINCYCLE_SERVER_ADDR: `127.0.0.1:${await freePort()}`,
    SPINCYCLE_DATA_DIR: files.dir,
  });

  it('users must authenticate but JRs have no credential: exit 2 naming the keys', async () => {
    const r = await runRm([], { ...(await base()), SPINCYCLE_AUTH_TOKENS_FILE: files.tokens });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain("set 'auth.internal_token_file'");
  });

  it('a broken tokens file: exit 2 naming the file and entry', async () => {
    const bad = join(files.dir, 'bad-tokens.yaml');
    writeFileSync(bad, 'plaintext-token: {user: a}\n');
    const r = await runRm([], {
      ...(await base()),
      SPINCYCLE_AUTH_TOKENS_FILE: bad,
      SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: files.internal,
    });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(`auth.tokens_file ${bad}: key 'plaintext-token' is not a SHA-256`);
  });

  it('hash-token hashes stdin or an argument; --new makes a token and its hash', async () => {
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(await runRm(['hash-token'], {}, 's3cret\n')).toEqual({
      code: 0,
      stdout: `${sha('s3cret')}\n`,
      stderr: '',
    });
    expect((await runRm(['hash-token', 'abc'])).stdout).toBe(`${sha('abc')}\n`);
    const made = await runRm(['hash-token', '--new']);
    const [line1, line2] = made.stdout.trim().split('\n');
    const token = line1?.replace(/^token: /, '') as string;
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(line2).toBe(sha(token));
    expect((await runRm(['hash-token'], {}, '\n')).code).toBe(2);
  });
});
