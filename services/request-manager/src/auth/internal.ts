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
import { ForbiddenError, JOB_RUNNER_HEADER, UnauthorizedError, ValidationError } from '@spincycle/protocol';
import { peerCertificateName } from '@spincycle/service-kit';
import type { Request as HttpRequest, RequestHandler, Response } from 'express';
import type { Caller } from '../auth.js';

const JOB_RUNNER_HEADER_LC = JOB_RUNNER_HEADER.toLowerCase();

function urlOrNull(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

/** Middleware of the internal routes: the calling Job Runner's URL into `res.locals.jobRunner` (see jobRunnerOf). */
export function jobRunnerBinding(auth: InternalAuth): RequestHandler {
  return (req, res, next) => {
    try {
      res.locals.jobRunner = auth.jobRunnerOf(req);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The calling Job Runner's URL as jobRunnerBinding found it; undefined: not named (allowed only without credentials). */
export function callingJobRunner(res: Response): string | undefined {
  return res.locals.jobRunner as string | undefined;
}

/** Header carrying the internal token (lower case, as node presents headers). */
export const INTERNAL_TOKEN_HEADER = 'x-spincycle-internal-token';

export const INTERNAL_DENIED =
  'this endpoint is for Job Runners: internal token or client certificate required';

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

  /**
   * The advertised URL of the Job Runner making this call (header
   * `X-Spincycle-Job-Runner`, without trailing slashes), which the RM binds
   * reports and heartbeats to. Required when Job Runners have credentials
   * (403 without it); without credentials it is optional (anyone may report
   * then) but checked when sent. A Job Runner known by its certificate must
   * name a URL whose host the certificate is for (403 otherwise).
   */
  jobRunnerOf(req: HttpRequest): string | undefined {
    const given = req.headers[JOB_RUNNER_HEADER_LC];
    if (given === undefined || given === '') {
      if (this.enabled)
        throw new ForbiddenError(
          `Job Runner calls must carry the Job Runner's URL in the ${JOB_RUNNER_HEADER} header`,
        );
      return undefined;
    }
    const url = typeof given === 'string' && /^https?:\/\/[^/]/i.test(given) ? urlOrNull(given) : null;
    if (!url)
      throw new ValidationError(
        `${JOB_RUNNER_HEADER} must be the Job Runner's http(s) base URL`,
        JOB_RUNNER_HEADER,
      );
    const jrUrl = (given as string).replace(/\/+$/, '');
    const certName = peerCertificateName(req.socket, this.certNames);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (certName !== undefined && peerCertificateName(req.socket, [host]) === undefined)
      throw new ForbiddenError(
        `Job Runner ${jrUrl}: the client certificate (for ${certName}) is not for host ${host}`,
      );
    return jrUrl;
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
