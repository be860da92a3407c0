/**
 * The built-in authenticators with good, bad, expired and missing credentials:
 * static tokens (hashed file), JWT (HS256 secret, RS256 PEM key, JWKS file and
 * URL — served by a real HTTP server here), the
 * Job Runner credential check, and auth config errors.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnauthorizedError, UpstreamError } from '@spincycle/protocol';
import { ConfigError } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalAuth } from '../src/auth/internal.js';
import { JWKS_UNAVAILABLE, JwtAuthenticator } from '../src/auth/jwt.js';
import { authFromConfig } from '../src/auth/setup.js';
import { hashToken, parseTokensFile, StaticTokenAuthenticator } from '../src/auth/tokens.js';
import { anonymousAuthenticator } from '../src/auth.js';
import { loadRmConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'rm-auth-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const withHeaders = (headers: Record<string, string>) => ({ headers, socket: {} }) as unknown as HttpRequest;
const bearer = (t: string) => withHeaders({ authorization: `Bearer ${t}` });
const now = () => Math.floor(Date.now() / 1000);

async function rejects401(p: Promise<unknown> | (() => unknown), message: string | RegExp) {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnauthorizedError);
  expect((err as Error).message).toMatch(message);
}

describe('static tokens', () => {
  const tokensFile = () =>
    file(
      'tokens.yaml',
      `${hashToken('alice-secret-token')}:\n  user: alice\n  roles: [deployer, ops]\nsha256:${hashToken('bob-token-123456').toUpperCase()}: { user: bob }\n`,
    );

  it('hashToken is the hex SHA-256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('good token → its user and roles; bad → 401; missing → 401; malformed header → 401', async () => {
    const a = StaticTokenAuthenticator.fromFile(tokensFile());
    expect(a.authenticate(bearer('alice-secret-token'))).toEqual({
      name: 'alice',
      roles: ['deployer', 'ops'],
    });
    expect(a.authenticate(withHeaders({ authorization: 'bearer bob-token-123456' }))).toEqual({
      name: 'bob',
      roles: [],
    });
    await rejects401(() => a.authenticate(bearer('alice-secret-token2')), /^invalid token$/);
    await rejects401(() => a.authenticate(withHeaders({})), /^missing credentials/);
    await rejects401(
      () => a.authenticate(withHeaders({ authorization: 'Basic YWxpY2U6eA==' })),
      /malformed Authorization/,
    );
  });

  it('JSON works too; the file never holds tokens, only hashes', () => {
    const m = parseTokensFile(JSON.stringify({ [hashToken('t')]: { user: 'ci', roles: ['ci'] } }), 'x.json');
    expect([...m.values()]).toEqual([{ name: 'ci', roles: ['ci'] }]);
  });

  it('bad files are config errors naming the problem', () => {
    const bad = (text: string) => () => parseTokensFile(text, 'f.yaml');
    expect(bad('alice-secret: {user: alice}')).toThrow(/key 'alice-secret' is not a SHA-256/);
    expect(bad(`${hashToken('x')}: {roles: [a]}`)).toThrow(/'user' must be a non-empty string/);
    expect(bad(`${hashToken('x')}: {user: a, roles: a}`)).toThrow(/'roles' must be a list/);
    expect(bad(`${hashToken('x')}: {user: a, role: [a]}`)).toThrow(/unknown key 'role'/);
    expect(bad('[1, 2]')).toThrow(ConfigError);
    expect(bad(`${hashToken('x')}: {user: a}\nsha256:${hashToken('x')}: {user: b}`)).toThrow(/listed twice/);
    expect(() => StaticTokenAuthenticator.fromFile(join(dir, 'nope.yaml'))).toThrow(/cannot read/);
  });
});

describe('JWT', () => {
  const secret = 'a-shared-secret-of-at-least-32-bytes!!';
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let pemFile: string;
  let jwksFile: string;

  beforeAll(async () => {
    pemFile = file('rs.pem', rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const jwk = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwksFile = file('jwks.json', JSON.stringify({ keys: [jwk] }));
  });

  const hs = (claims: Record<string, unknown>, exp: number | null = now() + 60, key = secret) => {
    let j = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
    if (exp !== null) j = j.setExpirationTime(exp);
    return j.sign(new TextEncoder().encode(key));
  };
  // Tokens for our audience unless a test says otherwise.
  const rs = (claims: Record<string, unknown>, exp = now() + 60, key = rsa.privateKey, kid = 'k1') =>
    new SignJWT({ aud: 'spincycle', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setExpirationTime(exp)
      .sign(key);

  it('HS256: good, bad signature, expired, no exp, missing, wrong algorithm', async () => {
    const a = new JwtAuthenticator({ secretFile: file('secret', `${secret}\n`) });
    expect(await a.authenticate(bearer(await hs({ sub: 'alice', roles: ['ops'] })))).toEqual({
      name: 'alice',
      roles: ['ops'],
    });
    await rejects401(
      a.authenticate(bearer(await hs({ sub: 'alice' }, undefined, `${secret}x`))),
      'invalid token: bad signature',
    );
    await rejects401(a.authenticate(bearer(await hs({ sub: 'alice' }, now() - 10))), /^token expired$/);
    await rejects401(a.authenticate(bearer(await hs({ sub: 'alice' }, null))), /no 'exp'/);
    await rejects401(a.authenticate(withHeaders({})), /^missing credentials/);
    await rejects401(a.authenticate(bearer('not.a.jwt')), /^invalid token/);
    await rejects401(a.authenticate(bearer(await rs({ sub: 'alice' }))), /algorithm not allowed/);
  });

  it('a clock tolerance accepts a token that just expired', async () => {
    const a = new JwtAuthenticator({ secretFile: file('secret2', secret), clockToleranceSec: 60 });
    expect((await a.authenticate(bearer(await hs({ sub: 'a' }, now() - 10)))).name).toBe('a');
  });

  it('RS256 with a PEM key: good, signed by another key, expired; issuer and audience', async () => {
    const a = new JwtAuthenticator({ publicKeyFile: pemFile, issuer: 'https://idp', audience: 'spincycle' });
    const good = { sub: 'bob', roles: ['deployer'], iss: 'https://idp', aud: 'spincycle' };
    expect(await a.authenticate(bearer(await rs(good)))).toEqual({ name: 'bob', roles: ['deployer'] });
    await rejects401(a.authenticate(bearer(await rs(good, undefined, other.privateKey))), /bad signature/);
    await rejects401(a.authenticate(bearer(await rs(good, now() - 5))), /^token expired$/);
    await rejects401(a.authenticate(bearer(await rs({ ...good, iss: 'https://evil' }))), /claim 'iss'/);
    await rejects401(a.authenticate(bearer(await rs({ ...good, aud: 'other' }))), /claim 'aud'/);
    // An HS256 token "signed" with the public key text must not pass (algorithm confusion).
    await rejects401(
      a.authenticate(
        bearer(await hs(good, undefined, rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string)),
      ),
      /algorithm not allowed/,
    );
  });

  it('RS256 with a JWKS file: the kid picks the key', async () => {
    const a = new JwtAuthenticator({ jwksFile, audience: 'spincycle' });
    expect((await a.authenticate(bearer(await rs({ sub: 'carol' })))).name).toBe('carol');
    await rejects401(
      a.authenticate(bearer(await rs({ sub: 'carol' }, undefined, other.privateKey, 'k2'))),
      /no matching key/,
    );
    await rejects401(a.authenticate(bearer(await rs({ sub: 'carol' }, now() - 1))), /^token expired$/);
  });

  describe('JWKS URL', () => {
    /** What the identity provider serves: a JWKS document, or an HTTP status. */
    let served: { keys: unknown[] } | number = { keys: [] };
    let fetches = 0;
    let server: Server;
    let url = '';
    const jwkOf = async (pair: typeof rsa, kid: string) => ({
      ...(await exportJWK(pair.publicKey)),
      kid,
      alg: 'RS256',
      use: 'sig',
    });

    beforeAll(async () => {
      server = createServer((_req, res) => {
        fetches++;
        if (typeof served === 'number') res.writeHead(served).end('no');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('the kid picks the key; a rotated key is fetched when a token names it; the dropped key is refused', async () => {
      served = { keys: [await jwkOf(rsa, 'k1')] };
      const a = new JwtAuthenticator({ jwksUrl: url, jwksCooldownMs: 0, audience: 'spincycle' });
      expect((await a.authenticate(bearer(await rs({ sub: 'carol' })))).name).toBe('carol');
      const before = fetches;
      expect((await a.authenticate(bearer(await rs({ sub: 'carol' })))).name).toBe('carol');
      expect(fetches).toBe(before); // cached
      served = { keys: [await jwkOf(other, 'k2')] };
      expect(
        (await a.authenticate(bearer(await rs({ sub: 'dan' }, undefined, other.privateKey, 'k2')))).name,
      ).toBe('dan');
      await rejects401(a.authenticate(bearer(await rs({ sub: 'carol' }))), /no matching key/);
      await rejects401(
        a.authenticate(bearer(await rs({ sub: 'x' }, now() - 1, other.privateKey, 'k2'))),
        /^token expired$/,
      );
    });

    it('when the keys cannot be fetched: 502 naming auth.jwt.jwks_url (not a 401); a failed reload keeps the cached keys', async () => {
      served = 503;
      const cold = new JwtAuthenticator({ jwksUrl: url, audience: 'spincycle' });
      const err = await cold.authenticate(bearer(await rs({ sub: 'carol' }))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).httpStatus).toBe(502);
      expect((err as Error).message).toBe(JWKS_UNAVAILABLE);
      expect(String((err as Error).cause)).toMatch(/Expected 200 OK from the JSON Web Key Set/);

      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const nobody = new JwtAuthenticator({
        jwksUrl: `http://127.0.0.1:${port}/jwks`,
        audience: 'spincycle',
      });
      const refused = await nobody.authenticate(bearer(await rs({ sub: 'carol' }))).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UpstreamError);
      expect((refused as Error).message).toBe(JWKS_UNAVAILABLE);
      expect(String((refused as Error).cause)).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1:${port}/jwks: .*ECONNREFUSED`),
      );

      served = { keys: [await jwkOf(rsa, 'k1')] };
      const warm = new JwtAuthenticator({ jwksUrl: url, audience: 'spincycle' });
      expect((await warm.authenticate(bearer(await rs({ sub: 'carol' })))).name).toBe('carol');
      served = 500;
      await expect(warm.reload()).rejects.toThrow(
        /^auth\.jwt\.jwks_url: cannot fetch http:\/\/127\.0\.0\.1:\d+\/jwks: /,
      );
      expect((await warm.authenticate(bearer(await rs({ sub: 'carol' })))).name).toBe('carol');
      served = { keys: [await jwkOf(other, 'k2')] };
      await warm.reload();
      expect(
        (await warm.authenticate(bearer(await rs({ sub: 'dan' }, undefined, other.privateKey, 'k2')))).name,
      ).toBe('dan');
    });

    it('config errors name the key', () => {
      expect(() => new JwtAuthenticator({ jwksUrl: 'not a url' })).toThrow(
        /^auth\.jwt\.jwks_url: 'not a url' is not a URL/,
      );
      const aud = { audience: 'spincycle' };
      expect(() => new JwtAuthenticator({ jwksUrl: 'ftp://idp/jwks', ...aud })).toThrow(
        /must be an https:\/\/ URL/,
      );
      // Keys fetched in the clear only from this machine.
      expect(() => new JwtAuthenticator({ jwksUrl: 'http://idp.example/jwks', ...aud })).toThrow(
        /^auth\.jwt\.jwks_url: 'http:\/\/idp\.example\/jwks' must be an https:\/\/ URL \(http:\/\/ only for a loopback host\)$/,
      );
      for (const ok of ['https://idp.example/jwks', 'http://localhost:1/jwks', 'http://[::1]:1/jwks'])
        expect(new JwtAuthenticator({ jwksUrl: ok, ...aud }).keySource.file).toBe(ok);
      // Public keys need an audience (the provider signs other applications' tokens with them too).
      expect(() => new JwtAuthenticator({ jwksUrl: url })).toThrow(/^auth\.jwt\.audience: required/);
      expect(() => new JwtAuthenticator({ jwksFile })).toThrow(/^auth\.jwt\.audience: required/);
      expect(() => new JwtAuthenticator({ publicKeyFile: pemFile })).toThrow(
        /^auth\.jwt\.audience: required/,
      );
      expect(() => new JwtAuthenticator({ jwksUrl: url, ...aud, clockToleranceSec: 301 })).toThrow(
        /^auth\.jwt\.clock_tolerance: at most 5m, got 301s$/,
      );
      expect(new JwtAuthenticator({ jwksUrl: url, ...aud, clockToleranceSec: 300 })).toBeInstanceOf(
        JwtAuthenticator,
      );
      expect(() => new JwtAuthenticator({ jwksUrl: url, jwksFile })).toThrow(
        /exactly one of .*auth\.jwt\.jwks_url/,
      );
      expect(() => new JwtAuthenticator({ jwksUrl: url, algorithms: ['HS256'] })).toThrow(
        /cannot be used with a public key/,
      );
    });
  });

  it('name and roles claims are configurable (dotted paths, space-separated strings)', async () => {
    const a = new JwtAuthenticator({
      secretFile: file('secret3', secret),
      nameClaim: 'preferred_username',
      rolesClaim: 'realm_access.roles',
    });
    const t = await hs({ sub: 'id-1', preferred_username: 'dave', realm_access: { roles: ['a', 'b'] } });
    expect(await a.authenticate(bearer(t))).toEqual({ name: 'dave', roles: ['a', 'b'] });
    await rejects401(a.authenticate(bearer(await hs({ sub: 'id-1' }))), /no 'preferred_username' claim/);
    const s = new JwtAuthenticator({ secretFile: file('secret4', secret), rolesClaim: 'scope' });
    expect(await s.authenticate(bearer(await hs({ sub: 'e', scope: 'read deploy' })))).toEqual({
      name: 'e',
      roles: ['read', 'deploy'],
    });
    await rejects401(
      s.authenticate(bearer(await hs({ sub: 'e', scope: 5 }))),
      /must be a list of role names/,
    );
  });

  it('key config errors', () => {
    expect(() => new JwtAuthenticator({})).toThrow(/exactly one of/);
    expect(() => new JwtAuthenticator({ secretFile: file('short', 'short') })).toThrow(/at least 32 bytes/);
    expect(() => new JwtAuthenticator({ secretFile: file('s5', secret), algorithms: ['RS256'] })).toThrow(
      /cannot be used with a secret/,
    );
    expect(() => new JwtAuthenticator({ publicKeyFile: file('junk.pem', 'junk') })).toThrow(
      /not a PEM public key/,
    );
    expect(() => new JwtAuthenticator({ jwksFile: file('junk.json', '{') })).toThrow(/not a JWKS/);
  });
});

describe('Job Runner credentials', () => {
  const token = 'internal-token-0123456789';
  it('the internal token header: right → the JR, wrong → 401, missing → 401', async () => {
    const i = new InternalAuth({ tokens: [token] });
    expect(i.enabled).toBe(true);
    expect(i.verify(withHeaders({ 'x-spincycle-internal-token': token })).name).toBe('job-runner');
    await rejects401(
      () => i.verify(withHeaders({ 'x-spincycle-internal-token': `${token}x` })),
      /^invalid internal token$/,
    );
    await rejects401(() => i.verify(withHeaders({ authorization: `Bearer ${token}` })), /for Job Runners/);
    expect(new InternalAuth().enabled).toBe(false);
  });

  it('several tokens (a rotation): each is accepted until a reload drops it', async () => {
    const next = 'next-internal-token-0123456789';
    const i = new InternalAuth({ tokens: [token, next] });
    expect(i.verify(withHeaders({ 'x-spincycle-internal-token': token })).name).toBe('job-runner');
    expect(i.verify(withHeaders({ 'x-spincycle-internal-token': next })).name).toBe('job-runner');
    i.setTokens([next]);
    expect(i.verify(withHeaders({ 'x-spincycle-internal-token': next })).name).toBe('job-runner');
    await rejects401(
      () => i.verify(withHeaders({ 'x-spincycle-internal-token': token })),
      /^invalid internal token$/,
    );
  });

  it('client certificates admit Job Runners only with a name list (the names: test/auth/cert-names.test.ts)', async () => {
    const unverified = { headers: {}, socket: { authorized: false } } as unknown as HttpRequest;
    // Verified by the CA is not enough: users hold such certificates too.
    expect(new InternalAuth({ clientCerts: true }).enabled).toBe(false);
    // Names without client certificates on the server admit nobody.
    expect(new InternalAuth({ certNames: ['jr1.example'] }).enabled).toBe(false);
    const named = new InternalAuth({ clientCerts: true, certNames: ['jr1.example'] });
    expect(named.enabled).toBe(true);
    await rejects401(() => named.verify(unverified), /for Job Runners/);
  });
});

describe('auth from config', () => {
  const serverTls = {
    'server.tls.cert_file': 'server.crt',
    'server.tls.key_file': 'server.key',
    'server.tls.ca_file': 'ca.crt',
  };

  const acls = () => [];
  const cfg = (overrides: Record<string, unknown>) => loadRmConfig({ env: {}, overrides });
  const tokens = () => file('t.yaml', `${hashToken('tok')}: {user: u}\n`);
  const internal = () => file('internal', 'internal-token-0123456789\n');

  it('default: everyone anonymous, everything allowed, internal routes open', async () => {
    const a = await authFromConfig(cfg({}), acls);
    expect(a.authenticator).toBe(anonymousAuthenticator);
    expect(a.internal.enabled).toBe(false);
    expect(await a.authorizer.authorize({ name: '', roles: [] }, 'start', { type: 'x' } as never)).toEqual({
      allowed: true,
    });
  });

  it('users must authenticate → Job Runners need a credential', async () => {
    await expect(authFromConfig(cfg({ 'auth.tokens_file': tokens() }), acls)).rejects.toThrow(
      /set 'auth.internal_token_file'/,
    );
    const a = await authFromConfig(
      cfg({ 'auth.tokens_file': tokens(), 'auth.internal_token_file': internal() }),
      acls,
    );
    expect(a.summary).toMatchObject({ authentication: 'static tokens', internal: ['internal token'] });
    // One token per line, comments skipped: all accepted, the first one sent to Job Runners.
    const two = await authFromConfig(
      cfg({
        'auth.tokens_file': tokens(),
        'auth.internal_token_file': file(
          'two-int',
          '# rotation\nfirst-token-0123456789\n\nsecond-token-0123456789\n',
        ),
      }),
      acls,
    );
    expect(two.summary.internal).toEqual(['internal tokens (2)']);
    expect(two.jrClientToken).toBe('first-token-0123456789');
    for (const t of ['first-token-0123456789', 'second-token-0123456789'])
      expect(two.internal.verify(withHeaders({ 'x-spincycle-internal-token': t })).name).toBe('job-runner');
  });

  it('client certificates without auth.internal_client_names: refused unless Job Runners use a token', async () => {
    const err = await authFromConfig(cfg(serverTls), acls).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /^config: 'server\.tls\.ca_file' makes client certificates authenticate Job Runners, but 'auth\.internal_client_names' is empty/,
    );
    const withToken = await authFromConfig(
      cfg({ ...serverTls, 'auth.internal_token_file': internal() }),
      acls,
    );
    expect(withToken.summary.internal).toEqual(['internal token']);
    const named = await authFromConfig(cfg({ ...serverTls, 'auth.internal_client_names': ['jr-1'] }), acls);
    expect(named.summary.internal).toEqual(['client certificate (jr-1)']);
  });

  it('auth.strict defaults to true once callers are authenticated; false keeps types without ACLs open', async () => {
    const on = { 'auth.tokens_file': tokens(), 'auth.internal_token_file': internal() };
    const strict = await authFromConfig(cfg(on), acls);
    expect(strict.summary.strict).toBe(true);
    expect(
      (await strict.authorizer.authorize({ name: 'u', roles: [] }, 'start', { type: 'x' } as never)).allowed,
    ).toBe(false);
    const open = await authFromConfig(cfg({ ...on, 'auth.strict': false }), acls);
    expect(
      await open.authorizer.authorize({ name: 'u', roles: [] }, 'start', { type: 'x' } as never),
    ).toEqual({
      allowed: true,
    });
    expect((await authFromConfig(cfg({}), acls)).summary.strict).toBe(false);
  });

  it('internal token file checks', async () => {
    await expect(
      authFromConfig(cfg({ 'auth.internal_token_file': file('short-int', 'abc\n') }), acls),
    ).rejects.toThrow(/at least 16/);
    await expect(
      authFromConfig(cfg({ 'auth.internal_token_file': file('blank-int', '# only a comment\n\n') }), acls),
    ).rejects.toThrow(/at least 16/);
    await expect(
      authFromConfig(
        cfg({ 'auth.internal_token_file': file('spaced-int', 'internal token 0123456789\n') }),
        acls,
      ),
    ).rejects.toThrow(/one token per line/);
    await expect(
      authFromConfig(cfg({ 'auth.internal_token_file': join(dir, 'missing') }), acls),
    ).rejects.toThrow(/cannot read/);
  });

  it('a plugin authenticate excludes the built-ins; internal_client_names needs client certificates', async () => {
    const plugin = file(
      'plugin.mjs',
      'export function authenticate() { return { name: "p", roles: [] }; }\n',
    );
    await expect(
      authFromConfig(
        cfg({ 'auth.module': plugin, 'auth.tokens_file': tokens(), 'auth.internal_token_file': internal() }),
        acls,
      ),
    ).rejects.toThrow(/do not also set/);
    const a = await authFromConfig(
      cfg({ 'auth.module': plugin, 'auth.internal_token_file': internal() }),
      acls,
    );
    expect(await a.authenticator.authenticate(withHeaders({}))).toEqual({ name: 'p', roles: [] });
    await expect(
      authFromConfig(
        cfg({ 'auth.internal_client_names': ['jr'], 'auth.internal_token_file': internal() }),
        acls,
      ),
    ).rejects.toThrow(/needs client certificates/);
    await expect(
      authFromConfig(cfg({ 'auth.module': file('empty.mjs', 'export const x = 1;\n') }), acls),
    ).rejects.toThrow(/exports neither/);
    await expect(authFromConfig(cfg({ 'auth.module': join(dir, 'none.mjs') }), acls)).rejects.toThrow(
      /file not found/,
    );
  });
});
