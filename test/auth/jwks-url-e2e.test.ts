/**
 * JWT keys from an identity provider's JWKS URL, end to end: a real RM process
 * configured with `auth.jwt.jwks_url` against a real HTTP server standing in
 * for the identity provider. Tokens verify against the fetched keys; a key
 * rotated at the provider is fetched when a token names it; with the provider
 * down a token it cannot check is a 502 naming the key source (not a 401);
 * SIGHUP fetches again and keeps the cached keys when the fetch fails.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess, startRm } from '../support/system.js';
import { bearer, http, messageOf, nowSec, SPECS, until, writeAuthFiles } from './support/auth.js';

const k1 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const k2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = async (pair: typeof k1, kid: string) => ({
  ...pair.publicKey.export({ format: 'jwk' }),
  kid,
  alg: 'RS256',
  use: 'sig',
});
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An RS256 JWT (node:crypto only: the test does not rely on the library the RM verifies with). */
const token = async (
  sub: string,
  key: KeyObject,
  kid: string,
  claims: Record<string, unknown> = { iss: 'https://idp.test', aud: 'spincycle' },
) => {
  const body = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64({ sub, roles: ['dev'], ...claims, exp: nowSec() + 60 })}`;
  return `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
};

describe('JWT keys from a JWKS URL (real RM process, real HTTP identity provider)', () => {
  /** What the identity provider answers: a JWKS document or an HTTP status. */
  let served: { keys: unknown[] } | number = 503;
  let idp: Server;
  let rm: ServiceProcess;
  const list = async (t: string) => http(rm.url, 'GET', '/api/v1/requests?limit=1', undefined, bearer(t));

  beforeAll(async () => {
    idp = createServer((_req, res) => {
      if (typeof served === 'number') res.writeHead(served).end('unavailable');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}/.well-known/jwks.json`;
    const files = writeAuthFiles();
    const config = join(files.dir, 'jwks-rm.yaml');
    writeFileSync(
      config,
      `auth:\n  internal_token_file: ${files.internal}\n  jwt:\n    jwks_url: ${jwksUrl}\n    jwks_cooldown: 0s\n    issuer: https://idp.test\n    audience: spincycle\n`,
    );
    // The provider is down while the RM starts: start-up does not depend on it.
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `http://127.0.0.1:${await freePort()}`,
      configFile: config,
      env: { LOG_LEVEL: 'info' },
    });
  });
  afterAll(async () => {
    await rm?.stop();
    await new Promise<void>((r) => idp.close(() => r()));
  });

  it('provider down: 502 naming auth.jwt.jwks_url (the reason only in the RM log); up: tokens verify; a rotated key is fetched; the dropped one is refused', async () => {
    const down = await list(await token('ann', k1.privateKey, 'k1'));
    expect(down.status).toBe(502);
    expect(messageOf(down)).toBe(
      "cannot verify the token: the identity provider's keys (auth.jwt.jwks_url) cannot be fetched",
    );
    expect(messageOf(down)).not.toContain('127.0.0.1'); // the provider's address stays in the RM's log
    await until('the reason in the RM log', async () =>
      rm.log
        .split('\n')
        .some(
          (l) =>
            l.includes('"message":"request failed"') &&
            /"cause":"http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json: Expected 200 OK/.test(l),
        )
        ? true
        : undefined,
    );

    served = { keys: [await jwk(k1, 'k1')] };
    expect((await list(await token('ann', k1.privateKey, 'k1'))).status).toBe(200);

    served = { keys: [await jwk(k2, 'k2')] };
    expect((await list(await token('ann', k2.privateKey, 'k2'))).status).toBe(200);
    const dropped = await list(await token('ann', k1.privateKey, 'k1'));
    expect([dropped.status, messageOf(dropped)]).toEqual([401, 'invalid token: no matching key']);
  });

  it('SIGHUP fetches the keys again; when the provider is down the cached keys stay and the failure is logged', async () => {
    served = { keys: [await jwk(k2, 'k2')] };
    expect((await list(await token('bo', k2.privateKey, 'k2'))).status).toBe(200);
    served = 500;
    rm.proc.kill('SIGHUP');
    await until('the reload error', async () =>
      /"message":"reload failed[^\n]*auth\.jwt\.jwks_url/.test(rm.log) ? true : undefined,
    );
    expect((await list(await token('bo', k2.privateKey, 'k2'))).status).toBe(200);
    served = { keys: [await jwk(k1, 'k1')] };
    const reloads = rm.log.match(/"message":"reloaded"/g)?.length ?? 0;
    rm.proc.kill('SIGHUP');
    await until('the reload', async () =>
      (rm.log.match(/"message":"reloaded"/g)?.length ?? 0) > reloads ? true : undefined,
    );
    expect((await list(await token('bo', k1.privateKey, 'k1'))).status).toBe(200);
    expect(rm.proc.exitCode).toBeNull();
  });

  it('a token for another audience or from another issuer is refused (401)', async () => {
    served = { keys: [await jwk(k1, 'k1')] };
    const other = await list(
      await token('ann', k1.privateKey, 'k1', { iss: 'https://idp.test', aud: 'wiki' }),
    );
    expect([other.status, messageOf(other)]).toEqual([401, "invalid token: claim 'aud' check failed"]);
    const noAud = await list(await token('ann', k1.privateKey, 'k1', { iss: 'https://idp.test' }));
    expect(noAud.status).toBe(401);
    const evil = await list(
      await token('ann', k1.privateKey, 'k1', { iss: 'https://evil', aud: 'spincycle' }),
    );
    expect([evil.status, messageOf(evil)]).toEqual([401, "invalid token: claim 'iss' check failed"]);
  });
});

describe('JWT config the RM refuses at start', () => {
  const refusal = async (jwt: string) => {
    const files = writeAuthFiles();
    const config = join(files.dir, 'bad-jwt-rm.yaml');
    writeFileSync(config, `auth:\n  internal_token_file: ${files.internal}\n  jwt:\n${jwt}`);
    const rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `http://127.0.0.1:${await freePort()}`,
      configFile: config,
      waitHealthy: false,
    });
    return { code: await rm.exited, log: rm.log };
  };

  it('no audience, a JWKS URL over http to another host, a clock tolerance over 5 minutes', async () => {
    const noAud = await refusal('    jwks_url: https://idp.example/jwks\n');
    expect(noAud.code).toBe(2);
    expect(noAud.log).toContain('auth.jwt.audience: required');
    const http = await refusal('    jwks_url: http://idp.example/jwks\n    audience: spincycle\n');
    expect(http.code).toBe(2);
    expect(http.log).toContain('must be an https:// URL (http:// only for a loopback host)');
    const lax = await refusal(
      '    jwks_url: https://idp.example/jwks\n    audience: spincycle\n    clock_tolerance: 10m\n',
    );
    expect(lax.code).toBe(2);
    expect(lax.log).toContain('auth.jwt.clock_tolerance: at most 5m');
  });
});
