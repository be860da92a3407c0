/**
 * Shared pieces of the auth end-to-end tests: a tokens file (hashed, as
 * `auth.tokens_file` wants it), an internal token file, HS256 JWTs made with
 * node:crypto, raw HTTP calls, and the spinc executable run as a child process.
 */

import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Agent as HttpsAgent } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { expect } from 'vitest';
import {
  type DbKind,
  freePort,
  REPO_ROOT,
  type ServiceProcess,
  startJr,
  startRm,
} from '../../support/system.js';
import { until } from '../../support/until.js';

export const SPECS = join(REPO_ROOT, 'test/auth/specs');
const SPINC = join(REPO_ROOT, 'packages/spinc/dist/main.js');
export const INTERNAL_TOKEN = 'internal-token-for-job-runners-0123456789';
const JWT_SECRET = 'jwt-shared-secret-at-least-32-bytes-long';

/** user → roles; each user's token is `tok-<user>`. */
const USERS: Record<string, string[]> = {
  root: ['sre'],
  plat: ['platform'],
  dep: ['deployer'],
  starter: ['starter'],
  dev: ['dev'],
  intern: ['intern'], // matches no ACL entry at all
};
export const tokenOf = (user: string) => `tok-${user}`;
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
export const as = (user: string) => bearer(tokenOf(user));

export interface AuthFiles {
  dir: string;
  tokens: string;
  internal: string;
  jwtSecret: string;
}

/** A tokens file for USERS, each user's token given by `token`. */
export function writeTokensFile(file: string, token: (user: string) => string = tokenOf): void {
  writeFileSync(
    file,
    Object.entries(USERS)
      .map(
        ([u, roles]) =>
          `${createHash('sha256').update(token(u)).digest('hex')}:\n  user: ${u}\n  roles: [${roles.join(', ')}]\n`,
      )
      .join(''),
  );
}

export function writeAuthFiles(): AuthFiles {
  const dir = mkdtempSync(join(tmpdir(), 'spincycle-auth-'));
  const tokens = join(dir, 'tokens.yaml');
  writeTokensFile(tokens);
  const internal = join(dir, 'internal-token');
  writeFileSync(internal, `${INTERNAL_TOKEN}\n`);
  const jwtSecret = join(dir, 'jwt-secret');
  writeFileSync(jwtSecret, `${JWT_SECRET}\n`);
  return { dir, tokens, internal, jwtSecret };
}

/**
 * An RM with the auth files (tokens, JWT secret, internal token, admin role
 * `sre`) and a JR sending the internal token from `jrInternalFile` (default
 * the RM's file); `env` is added to both.
 */
export async function startWithAuth(opts: {
  db: DbKind;
  files: AuthFiles;
  jrInternalFile?: string;
  env?: Record<string, string>;
  /** The RM's config file. */
  rmConfigFile?: string;
}): Promise<{ rm: ServiceProcess; jr: ServiceProcess }> {
  const { files } = opts;
  const [rmPort, jrPort] = [await freePort(), await freePort()];
  const rm = await startRm({
    db: opts.db,
    specsDir: SPECS,
    jrUrl: `http://127.0.0.1:${jrPort}`,
    port: rmPort,
    configFile: opts.rmConfigFile,
    env: {
      ...opts.env,
      SPINCYCLE_AUTH_TOKENS_FILE: files.tokens,
      SPINCYCLE_AUTH_JWT_SECRET_FILE: files.jwtSecret,
      SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: files.internal,
      SPINCYCLE_AUTH_ADMIN_ROLES: 'sre',
    },
  });
  const jr = await startJr({
    rmUrl: rm.url,
    port: jrPort,
    env: { ...opts.env, SPINCYCLE_RM_CLIENT_INTERNAL_TOKEN_FILE: opts.jrInternalFile ?? files.internal },
  });
  return { rm, jr };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An HS256 JWT. */
export function jwt(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
export const nowSec = () => Math.floor(Date.now() / 1000);

export interface Answer {
  status: number;
  text: string;
  json: unknown;
}

/** One HTTP(S) call; `agent` for TLS (CA, client certificate). */
export async function http(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  agent?: HttpsAgent,
): Promise<Answer> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h: Record<string, string> = { ...headers };
  if (payload !== undefined) h['Content-Type'] ??= 'application/json';
  const parse = (status: number, text: string): Answer => {
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status, text, json };
  };
  if (!url.startsWith('https:')) {
    const res = await fetch(url + path, { method, headers: h, body: payload });
    return parse(res.status, await res.text());
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url + path, { method, headers: h, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(parse(res.statusCode ?? 0, text)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const messageOf = (a: Answer) => (a.json as { message?: string } | undefined)?.message;

/** Create a `deploy` request as `user` and wait for its final state. */
export async function runToEnd(
  rmUrl: string,
  user: string,
  args: Record<string, unknown>,
  agent?: HttpsAgent,
) {
  const res = await http(rmUrl, 'POST', '/api/v1/requests', { type: 'deploy', args }, as(user), agent);
  expect([res.status, messageOf(res)]).toEqual([201, undefined]);
  const id = (res.json as { id: string }).id;
  return until(`request ${id} to end`, async () => {
    const r = (await http(rmUrl, 'GET', `/api/v1/requests/${id}`, undefined, as(user), agent)).json as {
      state: number;
      finishedJobs: number;
      totalJobs: number;
    };
    return ([State.COMPLETE, State.FAIL, State.STOPPED] as number[]).includes(r.state)
      ? { id, ...r }
      : undefined;
  });
}

export interface SpincResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the spinc executable (stdin not a terminal) with only the given SPINC_* settings. */
export function spinc(args: string[], env: Record<string, string>): Promise<SpincResult> {
  const home = mkdtempSync(join(tmpdir(), 'spinc-auth-home-'));
  const empty = join(home, 'empty.yaml');
  writeFileSync(empty, '');
  const base: NodeJS.ProcessEnv = { HOME: home, SPINC_CONFIG: empty };
  for (const k of ['PATH', 'TZ', 'LANG']) if (process.env[k] !== undefined) base[k] = process.env[k];
  const proc = spawn(process.execPath, [SPINC, ...args], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => (stdout += c));
  proc.stderr.on('data', (c) => (stderr += c));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

export { until };
