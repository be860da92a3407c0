/**
 * JWT bearer tokens (`auth.jwt.*`), verified with `jose`: HS256 with a shared
 * secret file, or RS256 (and other asymmetric algorithms) with a PEM public
 * key/certificate file, a JWKS file, or a JWKS URL (an identity provider's
 * `jwks_uri`, fetched and cached by jose; a token with an unknown `kid` makes
 * it fetch again, at most once per cooldown). The signature, `exp` (required),
 * `nbf`, the audience (required with public keys: an identity provider signs
 * tokens for many applications with the same keys) and the issuer when set
 * are checked; the caller's name and
 * roles come from configurable claims (dotted paths such as
 * `realm_access.roles` reach into nested objects).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UnauthorizedError, UpstreamError } from '@spincycle/protocol';
import { ConfigError, isLoopbackHost } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type RemoteJWKSet,
} from 'jose';
import type { Authenticator, Caller } from '../auth.js';
import { bearerToken, MISSING_CREDENTIALS } from './tokens.js';

export interface JwtOptions {
  /** HS*: file holding the shared secret (trailing newline ignored; at least 32 bytes). */
  secretFile?: string;
  /** RS256 and other asymmetric algorithms: PEM public key (SPKI or PKCS#1) or X.509 certificate. */
  publicKeyFile?: string;
  /** A JWKS document (`{"keys": [...]}`); the token's `kid`/`alg` pick the key. */
  jwksFile?: string;
  /** Where to fetch the JWKS document (https; http only from a loopback host). */
  jwksUrl?: string;
  /** How long a fetched JWKS is used before it is fetched again (default 10 min). */
  jwksCacheMaxAgeMs?: number;
  /** Least time between two fetches for unknown `kid`s (default 30 s). */
  jwksCooldownMs?: number;
  /** Timeout of one JWKS fetch (default 5 s). */
  jwksTimeoutMs?: number;
  /** Accepted `alg` values (default HS256 with a secret, RS256 otherwise). */
  algorithms?: readonly string[];
  issuer?: string;
  audience?: string;
  /** Claim giving the user name (default `sub`). */
  nameClaim?: string;
  /** Claim giving the roles: a list of strings, or a space/comma separated string (default `roles`). */
  rolesClaim?: string;
  /** Leeway for exp/nbf, seconds (at most MAX_CLOCK_TOLERANCE_SEC). */
  clockToleranceSec?: number;
}

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const ASYM_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

function readKeyFile(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** A value at a dotted path of the payload (`a.b.c`); a key with dots that exists as such wins. */
function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (path in payload) return payload[path];
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The verification key and the algorithms it may be used with. */
interface JwtKey {
  key: Uint8Array | KeyObject | JWTVerifyGetKey;
  algorithms: string[];
  /** Set when the keys come from `auth.jwt.jwks_url`. */
  remote?: RemoteJWKSet;
}

/** The 502 message when the keys of `auth.jwt.jwks_url` cannot be fetched. */
export const JWKS_UNAVAILABLE =
  "cannot verify the token: the identity provider's keys (auth.jwt.jwks_url) cannot be fetched";

const KEY_SOURCES = [
  'auth.jwt.secret_file',
  'auth.jwt.public_key_file',
  'auth.jwt.jwks_file',
  'auth.jwt.jwks_url',
];

function remoteJwks(opts: JwtOptions): RemoteJWKSet {
  let url: URL;
  try {
    url = new URL(opts.jwksUrl as string);
  } catch {
    throw new ConfigError(`auth.jwt.jwks_url: '${opts.jwksUrl}' is not a URL`);
  }
  // Keys fetched in the clear could be swapped on the way: anyone could then mint tokens.
  const loopbackHttp = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp)
    throw new ConfigError(
      `auth.jwt.jwks_url: '${opts.jwksUrl}' must be an https:// URL (http:// only for a loopback host)`,
    );
  return createRemoteJWKSet(url, {
    cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000,
    cooldownDuration: opts.jwksCooldownMs ?? 30_000,
    timeoutDuration: opts.jwksTimeoutMs ?? 5_000,
  });
}

/**
 * Whether a verification failed because the JWKS could not be fetched or read
 * (the identity provider is down or answers nonsense), not because of the token.
 */
function keySourceFailure(err: unknown): boolean {
  if (err instanceof errors.JOSEError) {
    // Not ERR_JWKS_NO_MATCHING_KEY and the like: those are about the token.
    if (err.code === 'ERR_JWKS_TIMEOUT' || err.code === 'ERR_JWKS_INVALID') return true;
    return err.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/i.test(err.message);
  }
  // fetch() itself: connection refused, DNS, TLS.
  return err instanceof TypeError;
}

/** Largest `auth.jwt.clock_tolerance`: more would keep expired tokens working for long. */
const MAX_CLOCK_TOLERANCE_SEC = 300;

/** The checks of the options that do not depend on the key; throws ConfigError naming the key. */
function checkClaimsOptions(opts: JwtOptions): void {
  if (!opts.secretFile && !opts.audience)
    throw new ConfigError(
      "auth.jwt.audience: required with 'auth.jwt.public_key_file', 'auth.jwt.jwks_file' or 'auth.jwt.jwks_url' (the identity provider's tokens for other applications carry the same signature)",
    );
  if ((opts.clockToleranceSec ?? 0) > MAX_CLOCK_TOLERANCE_SEC)
    throw new ConfigError(
      `auth.jwt.clock_tolerance: at most ${MAX_CLOCK_TOLERANCE_SEC / 60}m, got ${opts.clockToleranceSec}s`,
    );
}

/** Read the key file of the options; throws ConfigError naming the key. */
function loadKey(opts: JwtOptions): JwtKey {
  const sources = [opts.secretFile, opts.publicKeyFile, opts.jwksFile, opts.jwksUrl].filter(Boolean).length;
  if (sources !== 1) throw new ConfigError(`auth.jwt: set exactly one of ${KEY_SOURCES.join(', ')}`);
  const given = opts.algorithms && opts.algorithms.length > 0 ? [...opts.algorithms] : undefined;
  let key: JwtKey['key'];
  if (opts.secretFile) {
    const secret = readKeyFile('auth.jwt.secret_file', opts.secretFile)
      .toString('utf8')
      .replace(/[\r\n]+$/, '');
    if (Buffer.byteLength(secret) < 32)
      throw new ConfigError('auth.jwt.secret_file: the secret must be at least 32 bytes');
    key = new TextEncoder().encode(secret);
    const algorithms = given ?? ['HS256'];
    const bad = algorithms.find((a) => !HMAC_ALGS.includes(a));
    if (bad)
      throw new ConfigError(
        `auth.jwt.algorithms: '${bad}' cannot be used with a secret (use ${HMAC_ALGS.join(', ')})`,
      );
    return { key, algorithms };
  }
  if (opts.publicKeyFile) {
    try {
      key = createPublicKey(readKeyFile('auth.jwt.public_key_file', opts.publicKeyFile));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(
        `auth.jwt.public_key_file: not a PEM public key or certificate: ${(err as Error).message}`,
      );
    }
  } else if (opts.jwksUrl) {
    const remote = remoteJwks(opts);
    return { key: remote, algorithms: asymmetric(given), remote };
  } else {
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(readKeyFile('auth.jwt.jwks_file', opts.jwksFile as string).toString('utf8'));
      key = createLocalJWKSet(jwks);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`auth.jwt.jwks_file: not a JWKS document: ${(err as Error).message}`);
    }
  }
  return { key, algorithms: asymmetric(given) };
}

/** The algorithms allowed with a public key (RS256 unless configured). */
function asymmetric(given: string[] | undefined): string[] {
  const algorithms = given ?? ['RS256'];
  const bad = algorithms.find((a) => !ASYM_ALGS.includes(a));
  if (bad)
    throw new ConfigError(
      `auth.jwt.algorithms: '${bad}' cannot be used with a public key (use ${ASYM_ALGS.join(', ')})`,
    );
  return algorithms;
}

export class JwtAuthenticator implements Authenticator {
  /** Swapped whole by reload(), so a token is checked against one key or the other. */
  private current: JwtKey;
  private readonly nameClaim: string;
  private readonly rolesClaim: string;

  constructor(private readonly opts: JwtOptions) {
    this.current = loadKey(opts);
    checkClaimsOptions(opts);
    this.nameClaim = opts.nameClaim || 'sub';
    this.rolesClaim = opts.rolesClaim || 'roles';
  }

  /** The config key and file (or URL) the key comes from (for logs). */
  get keySource(): { key: string; file: string } {
    if (this.opts.secretFile) return { key: 'auth.jwt.secret_file', file: this.opts.secretFile };
    if (this.opts.publicKeyFile) return { key: 'auth.jwt.public_key_file', file: this.opts.publicKeyFile };
    if (this.opts.jwksUrl) return { key: 'auth.jwt.jwks_url', file: this.opts.jwksUrl };
    return { key: 'auth.jwt.jwks_file', file: this.opts.jwksFile as string };
  }

  /**
   * Read the key file again and use it from now on; throws ConfigError (the old key stays)
   * when it is bad. With a JWKS URL: fetch it now; when that fails the cached keys stay.
   */
  async reload(): Promise<void> {
    const { remote } = this.current;
    if (remote) {
      try {
        await remote.reload();
      } catch (err) {
        throw new ConfigError(`auth.jwt.jwks_url: cannot fetch ${this.opts.jwksUrl}: ${joseCause(err)}`);
      }
      return;
    }
    this.current = loadKey(this.opts);
  }

  /** Verify a token and map its claims to a caller; throws UnauthorizedError. */
  async verify(token: string): Promise<Caller> {
    const { key, algorithms } = this.current;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key as Uint8Array, {
        algorithms,
        issuer: this.opts.issuer || undefined,
        audience: this.opts.audience || undefined,
        clockTolerance: this.opts.clockToleranceSec ?? 0,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      // The identity provider's keys cannot be had: not the caller's fault (502). The reason
      // (with the provider's address) goes to the RM's log as the cause, not to the caller.
      if (this.current.remote && keySourceFailure(err))
        throw new UpstreamError(JWKS_UNAVAILABLE, { cause: `${this.opts.jwksUrl}: ${joseCause(err)}` });
      throw new UnauthorizedError(describeJoseError(err));
    }
    const name = claimAt(payload, this.nameClaim);
    if (typeof name !== 'string' || name === '')
      throw new UnauthorizedError(`invalid token: no '${this.nameClaim}' claim with the user name`);
    const raw = claimAt(payload, this.rolesClaim);
    let roles: string[];
    if (raw === undefined || raw === null) roles = [];
    else if (typeof raw === 'string') roles = raw.split(/[\s,]+/).filter(Boolean);
    else if (Array.isArray(raw) && raw.every((r) => typeof r === 'string')) roles = raw as string[];
    else
      throw new UnauthorizedError(`invalid token: claim '${this.rolesClaim}' must be a list of role names`);
    return { name, roles };
  }

  async authenticate(req: HttpRequest): Promise<Caller> {
    const token = bearerToken(req);
    if (token === undefined) throw new UnauthorizedError(MISSING_CREDENTIALS);
    return this.verify(token);
  }
}

/** The reason of a failed JWKS fetch (fetch() puts the network error in `cause`). */
function joseCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** A short, safe 401 message for a jose failure (no token contents). */
function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'exp') return "invalid token: it has no 'exp' (expiry) claim";
    return `invalid token: claim '${err.claim}' ${err.reason === 'missing' ? 'is missing' : 'check failed'}`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'invalid token: signing algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'invalid token: bad signature';
  if (err instanceof errors.JWKSNoMatchingKey) return 'invalid token: no matching key';
  return 'invalid token';
}
