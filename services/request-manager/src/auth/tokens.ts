/**
 * Static bearer tokens (`auth.tokens_file`): a YAML or JSON map from the
 * SHA-256 of a token (hex) to the user and roles it stands for. Only hashes
 * are stored, so the file is not a secret by itself; a lookup hashes the
 * presented token and compares hashes.
 *
 *   # node services/request-manager/dist/main.js hash-token   (reads the token on stdin)
 *   5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8:
 *     user: alice
 *     roles: [ops, deployers]
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UnauthorizedError } from '@spincycle/protocol';
import { ConfigError } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import { parse as parseYaml } from 'yaml';
import type { Authenticator, Caller } from '../auth.js';

/** Hex SHA-256 of a token, as the tokens file stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export const MISSING_CREDENTIALS = 'missing credentials: send Authorization: Bearer <token>';

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none. */
export function bearerToken(req: Pick<HttpRequest, 'headers'>): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new UnauthorizedError('malformed Authorization header: expected Bearer <token>');
  return m[1];
}

/** Parse a tokens file's text; throws ConfigError naming the file and the entry. */
export function parseTokensFile(text: string, file: string): Map<string, Caller> {
  const bad = (why: string) => new ConfigError(`auth.tokens_file ${file}: ${why}`);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw bad(`invalid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw bad('expected a map of token SHA-256 (hex) to {user, roles}');
  const out = new Map<string, Caller>();
  for (const [rawKey, value] of Object.entries(doc as Record<string, unknown>)) {
    const key = rawKey.replace(/^sha256:/i, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(key))
      throw bad(`key '${rawKey}' is not a SHA-256 in hex (64 characters; use the hash-token command)`);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw bad(`entry '${rawKey}' must be a map with 'user' and optional 'roles'`);
    const { user, roles = [], ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw bad(`entry '${rawKey}': unknown key '${unknown[0]}' (known: user, roles)`);
    if (typeof user !== 'string' || user === '')
      throw bad(`entry '${rawKey}': 'user' must be a non-empty string`);
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && r !== ''))
      throw bad(`entry '${rawKey}': 'roles' must be a list of non-empty strings`);
    if (out.has(key)) throw bad(`token hash ${key} is listed twice`);
    out.set(key, Object.freeze({ name: user, roles: Object.freeze([...roles]) as string[] }));
  }
  return out;
}

export class StaticTokenAuthenticator implements Authenticator {
  constructor(private tokens: ReadonlyMap<string, Caller>) {}

  static fromFile(file: string): StaticTokenAuthenticator {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`auth.tokens_file: cannot read ${file}: ${(err as Error).message}`);
    }
    return new StaticTokenAuthenticator(parseTokensFile(text, file));
  }

  /**
   * Read the file again and use its tokens from now on; throws ConfigError
   * (the old ones stay) when it is bad, or empty: more likely caught while
   * being written than meant to lock everyone out.
   */
  reload(file: string): void {
    const next = StaticTokenAuthenticator.fromFile(file).tokens;
    if (next.size === 0) throw new ConfigError(`auth.tokens_file ${file}: no tokens in it`);
    this.tokens = next;
  }

  get size(): number {
    return this.tokens.size;
  }

  /** The caller a token stands for, or undefined. A Map lookup by hash: no timing signal about the token. */
  lookup(token: string): Caller | undefined {
    return this.tokens.get(hashToken(token));
  }

  authenticate(req: HttpRequest): Caller {
    const token = bearerToken(req);
    if (token === undefined) throw new UnauthorizedError(MISSING_CREDENTIALS);
    const caller = this.lookup(token);
    if (!caller) throw new UnauthorizedError('invalid token');
    return caller;
  }
}
