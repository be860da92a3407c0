/**
 * The JR's API is for Request Managers only, and it runs commands. A caller
 * of `/api` is admitted by the internal token in `X-Spincycle-Internal-Token`
 * (`auth.internal_token_file`, by default the file of
 * `rm_client.internal_token_file`) or by a verified client certificate for
 * one of `auth.rm_client_names` (with `server.tls.ca_file`); checked before
 * the body is read, 401 otherwise; so is a scraper of `/metrics`. `/version`
 * and `/health` stay open. With
 * neither configured the JR listens on loopback only (config.ts) and answers
 * only calls addressed to a loopback name (DNS rebinding).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@spincycle/protocol';
import { peerCertificateName } from '@spincycle/service-kit';
import type { RequestHandler } from 'express';

export const INTERNAL_TOKEN_HEADER = 'x-spincycle-internal-token';
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The check of RM credentials: any of the given tokens (several during a
 * rotation; `setTokens` swaps them for calls that arrive afterwards) or a
 * client certificate for one of `certNames`.
 */
export class InternalTokenGuard {
  private want: Buffer[];

  constructor(
    tokens: string | readonly string[],
    private readonly certNames: readonly string[] = [],
  ) {
    this.want = (typeof tokens === 'string' ? [tokens] : tokens).map(digest);
  }

  setTokens(tokens: readonly string[]): void {
    this.want = tokens.map(digest);
  }

  private wanted(): string {
    if (this.want.length === 0) return 'a client certificate named in auth.rm_client_names';
    return this.certNames.length > 0 ? 'internal token or client certificate' : 'internal token';
  }

  readonly handler: RequestHandler = (req, _res, next) => {
    if (!/^\/(api(\/|$)|metrics\/?$)/i.test(req.path)) return next();
    if (peerCertificateName(req.socket, this.certNames) !== undefined) return next();
    const given = req.headers[INTERNAL_TOKEN_HEADER];
    if (typeof given !== 'string' || given === '' || this.want.length === 0)
      return next(
        new UnauthorizedError(
          `this Job Runner takes calls from Request Managers only: ${this.wanted()} required`,
        ),
      );
    const d = digest(given);
    if (!this.want.some((w) => timingSafeEqual(d, w)))
      return next(new UnauthorizedError('invalid internal token'));
    next();
  };
}
