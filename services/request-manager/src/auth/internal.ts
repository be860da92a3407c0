/**
 * Credentials of Job Runners on the RM's internal endpoints (finish, suspend,
 * progress, job logs, and whatever INTERNAL_ROUTES lists): the shared internal
 * token in the `X-Spincycle-Internal-Token` header (`auth.internal_token_file`
 * here, `rm_client.internal_token_file` on the JR), or a verified TLS client
 * certificate when the RM requires them (`server.tls.ca_file`), optionally
 * restricted to certain subject names (`auth.internal_client_names`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { UnauthorizedError } from '@spincycle/protocol';
import { ConfigError, tokenLines } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import type { Caller } from '../auth.js';

/** Header carrying the internal token (lower case, as node presents headers). */
export const INTERNAL_TOKEN_HEADER = 'x-spincycle-internal-token';

export const INTERNAL_DENIED =
  'this endpoint is for Job Runners: internal token or client certificate required';

/**
 * Read a token file: one token per line (blank lines and `#` comments are
 * skipped), each at least 16 characters without whitespace. Several tokens
 * make a rotation seamless: every listed token is accepted, the first one is
 * the one sent (add the new token second everywhere and reload, then move it
 * first and reload, then drop the old one).
 */
export function readTokenFile(key: string, file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`);
  }
  const tokens = tokenLines(text);
  if (tokens.length === 0)
    throw new ConfigError(`${key}: ${file} must hold a token of at least 16 characters`);
  for (const token of tokens) {
    if (token.length < 16)
      throw new ConfigError(`${key}: ${file} must hold tokens of at least 16 characters`);
    if (/\s/.test(token))
      throw new ConfigError(`${key}: ${file} must hold one token per line (no whitespace inside)`);
  }
  return tokens;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Names a client certificate carries: subject CN and subjectAltName DNS/IP/URI entries. */
export function certificateNames(cert: {
  subject?: { CN?: string | string[] };
  subjectaltname?: string;
}): string[] {
  const names: string[] = [];
  const cn = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...cn);
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*(DNS|IP Address|URI):(.+)$/.exec(part);
    if (m?.[2]) names.push(m[2].trim());
  }
  return names;
}

export interface InternalAuthOptions {
  /** The shared internal tokens: any of them is accepted. */
  tokens?: readonly string[];
  /** The server verifies client certificates (server TLS with a CA). */
  clientCerts?: boolean;
  /** Certificate names (CN or SAN) accepted as Job Runners; empty = any verified certificate. */
  certNames?: readonly string[];
}

export class InternalAuth {
  private tokenDigests: Buffer[];
  private readonly certNames: ReadonlySet<string>;

  constructor(private readonly opts: InternalAuthOptions = {}) {
    this.tokenDigests = (opts.tokens ?? []).map(digest);
    this.certNames = new Set(opts.certNames ?? []);
  }

  /** Accept these tokens from now on (a reload of the token file). */
  setTokens(tokens: readonly string[]): void {
    this.tokenDigests = tokens.map(digest);
  }

  /** Whether internal endpoints need Job Runner credentials at all. */
  get enabled(): boolean {
    return this.tokenDigests.length > 0 || Boolean(this.opts.clientCerts);
  }

  /** The Job Runner calling, or throws UnauthorizedError (401). */
  verify(req: HttpRequest): Caller {
    if (this.opts.clientCerts) {
      const socket = req.socket as TLSSocket;
      if (socket.authorized && typeof socket.getPeerCertificate === 'function') {
        const names = certificateNames(socket.getPeerCertificate());
        if (this.certNames.size === 0 || names.some((n) => this.certNames.has(n)))
          return { name: names[0] ?? 'job-runner', roles: [] };
      }
    }
    const given = req.headers[INTERNAL_TOKEN_HEADER];
    if (this.tokenDigests.length > 0 && typeof given === 'string' && given !== '') {
      // Equal-length digests, compared in constant time.
      const d = digest(given);
      if (this.tokenDigests.some((t) => timingSafeEqual(d, t))) return { name: 'job-runner', roles: [] };
      throw new UnauthorizedError('invalid internal token');
    }
    throw new UnauthorizedError(INTERNAL_DENIED);
  }
}
