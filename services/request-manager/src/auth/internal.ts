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
import { ConfigError } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import type { Caller } from '../auth.js';

/** Header carrying the internal token (lower case, as node presents headers). */
export const INTERNAL_TOKEN_HEADER = 'x-spincycle-internal-token';

export const INTERNAL_DENIED =
  'this endpoint is for Job Runners: internal token or client certificate required';

/** Read a token file: its text without surrounding whitespace; at least 16 characters. */
export function readTokenFile(key: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`);
  }
  const token = text.trim();
  if (token.length < 16) throw new ConfigError(`${key}: ${file} must hold a token of at least 16 characters`);
  if (/\s/.test(token)) throw new ConfigError(`${key}: ${file} must hold one token (no whitespace inside)`);
  return token;
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
  /** The shared internal token. */
  token?: string;
  /** The server verifies client certificates (server TLS with a CA). */
  clientCerts?: boolean;
  /** Certificate names (CN or SAN) accepted as Job Runners; empty = any verified certificate. */
  certNames?: readonly string[];
}

export class InternalAuth {
  private tokenDigest: Buffer | undefined;
  private readonly certNames: ReadonlySet<string>;

  constructor(private readonly opts: InternalAuthOptions = {}) {
    this.tokenDigest = opts.token ? digest(opts.token) : undefined;
    this.certNames = new Set(opts.certNames ?? []);
  }

  /** Require this token from now on (a reload of the token file). */
  setToken(token: string): void {
    this.tokenDigest = digest(token);
  }

  /** Whether internal endpoints need Job Runner credentials at all. */
  get enabled(): boolean {
    return this.tokenDigest !== undefined || Boolean(this.opts.clientCerts);
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
    if (this.tokenDigest && typeof given === 'string' && given !== '') {
      // Equal-length digests, compared in constant time.
      if (timingSafeEqual(digest(given), this.tokenDigest)) return { name: 'job-runner', roles: [] };
      throw new UnauthorizedError('invalid internal token');
    }
    throw new UnauthorizedError(INTERNAL_DENIED);
  }
}
