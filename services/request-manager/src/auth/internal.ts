/**
 * Credentials of Job Runners on the RM's internal endpoints (finish, suspend,
 * progress, job logs, and whatever INTERNAL_ROUTES lists): the shared internal
 * token in the `X-Spincycle-Internal-Token` header (`auth.internal_token_file`
 * here, `rm_client.internal_token_file` on the JR), or a verified TLS client
 * certificate when the RM requires them (`server.tls.ca_file`) and it is for
 * one of the names in `auth.internal_client_names`. A certificate is never
 * enough by itself being signed by the CA: users may hold such certificates
 * too, so without a name list certificates do not admit Job Runners at all.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@spincycle/protocol';
import { peerCertificateName } from '@spincycle/service-kit';
import type { Request as HttpRequest } from 'express';
import type { Caller } from '../auth.js';

/** Header carrying the internal token (lower case, as node presents headers). */
const INTERNAL_TOKEN_HEADER = 'x-spincycle-internal-token';

const INTERNAL_DENIED = 'this endpoint is for Job Runners: internal token or client certificate required';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface InternalAuthOptions {
  /** The shared internal tokens: any of them is accepted. */
  tokens?: readonly string[];
  /** The server verifies client certificates (server TLS with a CA). */
  clientCerts?: boolean;
  /** Names a verified client certificate must be for (DNS/IP SAN, else CN) to be a Job Runner; empty: certificates admit none. */
  certNames?: readonly string[];
}

export class InternalAuth {
  private tokenDigests: Buffer[];
  private readonly certNames: readonly string[];

  constructor(opts: InternalAuthOptions = {}) {
    this.tokenDigests = (opts.tokens ?? []).map(digest);
    this.certNames = opts.clientCerts ? (opts.certNames ?? []) : [];
  }

  /** Accept these tokens from now on (a reload of the token file). */
  setTokens(tokens: readonly string[]): void {
    this.tokenDigests = tokens.map(digest);
  }

  /** Whether internal endpoints need Job Runner credentials at all. */
  get enabled(): boolean {
    return this.tokenDigests.length > 0 || this.certNames.length > 0;
  }

  /** The Job Runner calling, or throws UnauthorizedError (401). */
  verify(req: HttpRequest): Caller {
    const certName = peerCertificateName(req.socket, this.certNames);
    if (certName !== undefined) return { name: certName, roles: [] };
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
