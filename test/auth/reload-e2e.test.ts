/**
 * Rotating credentials without a restart: real RM and JR processes re-read
 * their credential files on SIGHUP (static tokens, the JWT secret, the
 * internal token on both sides); a broken file leaves the old credentials in
 * use and is logged.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceProcess } from '../support/system.js';
import {
  type AuthFiles,
  as,
  bearer,
  http,
  INTERNAL_TOKEN,
  jwt,
  messageOf,
  nowSec,
  runToEnd,
  startWithAuth,
  tokenOf,
  until,
  writeAuthFiles,
  writeTokensFile,
} from './support/auth.js';

let rm: ServiceProcess;
let jr: ServiceProcess;
let files: AuthFiles;
/** The JR's own copy of the internal token (rm_client.internal_token_file, and so auth.internal_token_file). */
let jrInternal: string;

const count = (svc: ServiceProcess, re: RegExp) => svc.log.match(new RegExp(re, 'g'))?.length ?? 0;

/** SIGHUP, then wait until the service logged one more line matching `done` (it is still running after). */
async function hup(svc: ServiceProcess, done: RegExp): Promise<void> {
  const before = count(svc, done);
  svc.proc.kill('SIGHUP');
  await until(`${svc.name} to log ${done} after SIGHUP`, async () =>
    count(svc, done) > before ? true : undefined,
  );
  expect(svc.proc.exitCode).toBeNull();
}

const reloaded = (what: string) => new RegExp(`"message":"reloaded"[^\\n]*${what}`);
const failed = (what: string) => new RegExp(`"level":"error","message":"reload failed[^\\n]*${what}`);

const get = (path: string, headers: Record<string, string>) => http(rm.url, 'GET', path, undefined, headers);

beforeAll(async () => {
  files = writeAuthFiles();
  jrInternal = join(files.dir, 'jr-internal-token');
  writeFileSync(jrInternal, `${INTERNAL_TOKEN}\n`);
  ({ rm, jr } = await startWithAuth({
    db: 'sqlite',
    files,
    jrInternalFile: jrInternal,
    env: { LOG_LEVEL: 'info' },
  }));
});

afterAll(async () => {
  await jr?.stop();
  await rm?.stop();
});

describe('SIGHUP re-reads the credential files', () => {
  it('static tokens: the new token works, the old one is refused', async () => {
    expect((await get('/api/v1/requests?limit=1', as('dev'))).status).toBe(200);
    writeTokensFile(files.tokens, (u) => (u === 'dev' ? 'tok-dev-rotated' : tokenOf(u)));
    await hup(rm, reloaded('auth.tokens_file'));
    const fresh = await get('/api/v1/requests?limit=1', bearer('tok-dev-rotated'));
    expect(fresh.status).toBe(200);
    const old = await get('/api/v1/requests?limit=1', as('dev'));
    expect([old.status, messageOf(old)]).toEqual([401, 'invalid token']);
    // The reload line names every file read.
    expect(rm.log).toMatch(reloaded(`auth.jwt.secret_file ${files.jwtSecret}`));
    expect(rm.log).toMatch(reloaded(`auth.internal_token_file ${files.internal}`));
  });

  it('a broken or empty tokens file keeps the old tokens and is logged as an error naming the file', async () => {
    writeFileSync(files.tokens, 'not: [valid yaml\n');
    await hup(rm, failed(`auth.tokens_file ${files.tokens}`));
    expect(rm.log).toMatch(/"error":"auth.tokens_file [^"]*: invalid YAML\/JSON/);
    expect((await get('/api/v1/requests?limit=1', bearer('tok-dev-rotated'))).status).toBe(200);

    writeFileSync(files.tokens, '');
    await hup(rm, failed(`auth.tokens_file ${files.tokens}`));
    expect(rm.log).toMatch(/"error":"auth.tokens_file [^"]*: no tokens in it"/);
    expect((await get('/api/v1/requests?limit=1', bearer('tok-dev-rotated'))).status).toBe(200);
    expect((await get('/api/v1/requests?limit=1', as('dev'))).status).toBe(401);
    writeTokensFile(files.tokens);
    await hup(rm, reloaded('auth.tokens_file'));
    expect((await get('/api/v1/requests?limit=1', as('dev'))).status).toBe(200);
  });

  it('JWT secret: tokens signed with the new secret pass, with the old one they are refused', async () => {
    const newSecret = 'a-rotated-jwt-secret-of-at-least-32-bytes';
    const claims = { sub: 'jwt-user', roles: ['dev'], exp: nowSec() + 60 };
    expect((await get('/api/v1/requests?limit=1', bearer(jwt(claims)))).status).toBe(200);
    writeFileSync(files.jwtSecret, `${newSecret}\n`);
    await hup(rm, reloaded('auth.jwt.secret_file'));
    expect((await get('/api/v1/requests?limit=1', bearer(jwt(claims, newSecret)))).status).toBe(200);
    const old = await get('/api/v1/requests?limit=1', bearer(jwt(claims)));
    expect([old.status, messageOf(old)]).toEqual([401, 'invalid token: bad signature']);
    // Too short a secret is refused; the rotated one stays.
    writeFileSync(files.jwtSecret, 'short\n');
    await hup(rm, failed('auth.jwt.secret_file'));
    expect((await get('/api/v1/requests?limit=1', bearer(jwt(claims, newSecret)))).status).toBe(200);
  });

  it('internal token rotated on both sides: RM and JR keep talking, the old token is refused by both', async () => {
    expect((await runToEnd(rm.url, 'dep', { app: 'r' })).state).toBe(State.COMPLETE);
    const rotated = 'a-rotated-internal-token-0123456789';
    writeFileSync(files.internal, `${rotated}\n`);
    writeFileSync(jrInternal, `${rotated}\n`);
    await Promise.all([
      hup(rm, reloaded(`auth.internal_token_file ${files.internal}`)),
      hup(jr, reloaded(`rm_client.internal_token_file ${jrInternal}`)),
    ]);
    expect(jr.log).toMatch(reloaded(`auth.internal_token_file ${jrInternal}`));
    // Both directions use the new token: the RM posts the chain, the JR reports its logs and the finish.
    expect((await runToEnd(rm.url, 'dep', { app: 'r' })).state).toBe(State.COMPLETE);
    const internal = (token: string) => ({ 'X-Spincycle-Internal-Token': token });
    const jrOld = await http(jr.url, 'GET', '/api/v1/status/running', undefined, internal(INTERNAL_TOKEN));
    expect([jrOld.status, messageOf(jrOld)]).toEqual([401, 'invalid internal token']);
    expect((await http(jr.url, 'GET', '/api/v1/status/running', undefined, internal(rotated))).status).toBe(
      200,
    );
    const rmOld = await http(rm.url, 'POST', '/api/v1/job-logs', [], internal(INTERNAL_TOKEN));
    expect([rmOld.status, messageOf(rmOld)]).toEqual([401, 'invalid internal token']);
    const rmNew = await http(rm.url, 'POST', '/api/v1/job-logs', [], {
      ...internal(rotated),
      'X-Spincycle-Job-Runner': jr.url,
    });
    expect(rmNew.status).toBeLessThan(300);
  });

  it('a rotation with two tokens per file has no moment of 401: one side reloaded at a time, requests keep completing', async () => {
    const current = 'a-rotated-internal-token-0123456789'; // left by the test above
    const next = 'the-next-internal-token-0123456789';
    const steps: Array<[ServiceProcess, string, string]> = [
      // Both accept the new token, then both send it, then the old one goes.
      [rm, files.internal, `${current}\n${next}\n`],
      [jr, jrInternal, `${current}\n${next}\n`],
      [rm, files.internal, `${next}\n${current}\n`],
      [jr, jrInternal, `${next}\n${current}\n`],
      [rm, files.internal, `${next}\n`],
      [jr, jrInternal, `${next}\n`],
    ];
    for (const [svc, file, text] of steps) {
      writeFileSync(file, text);
      await hup(svc, reloaded(`${svc === rm ? 'auth' : 'rm_client'}.internal_token_file ${file}`));
      expect((await runToEnd(rm.url, 'dep', { app: 'r' })).state).toBe(State.COMPLETE);
    }
    const internal = (token: string) => ({ 'X-Spincycle-Internal-Token': token });
    expect((await http(jr.url, 'GET', '/api/v1/status/running', undefined, internal(current))).status).toBe(
      401,
    );
    expect((await http(rm.url, 'POST', '/api/v1/job-logs', [], internal(current))).status).toBe(401);
  });

  it('an unreadable or empty internal token file keeps the old token on both sides, logged with the file', async () => {
    rmSync(files.internal);
    writeFileSync(jrInternal, '\n');
    await Promise.all([
      hup(rm, failed(`auth.internal_token_file ${files.internal}`)),
      hup(jr, failed(`rm_client.internal_token_file ${jrInternal}`)),
    ]);
    expect(rm.log).toMatch(/"error":"config: 'auth.internal_token_file': cannot read [^"]*ENOENT/);
    expect(jr.log).toMatch(/"error":"config: 'rm_client.internal_token_file': [^"]* is empty: /);
    expect(jr.log).toMatch(failed(`auth.internal_token_file ${jrInternal}`));
    expect((await runToEnd(rm.url, 'dep', { app: 'r' })).state).toBe(State.COMPLETE);
    expect(rm.proc.exitCode).toBeNull();
    expect(jr.proc.exitCode).toBeNull();
  });
});
