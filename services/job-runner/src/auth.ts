/**
 * The JR's API is for Request Managers only: with `auth.internal_token_file`
 * set (by default the same file as `rm_client.internal_token_file`), every
 * `/api` call must carry the shared token in `X-Spincycle-Internal-Token`,
 * checked before the body is read; otherwise 401. `/version` and `/health`
 * stay open. Client certificates (`server.tls.ca_file`) are the other way to
 * keep callers out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@spincycle/protocol';
import type { RequestHandler } from 'express';

export const INTERNAL_TOKEN_HEADER = 'x-spincycle-internal-token';
const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The check of the internal token: any of the given tokens (several during a
 * rotation); `setTokens` swaps them for calls that arrive afterwards.
 */
export class InternalTokenGuard {
  private want: Buffer[];

  constructor(tokens: string | readonly string[]) {
    this.want = (typeof tokens === 'string' ? [tokens] : tokens).map(digest);
  }

  setTokens(tokens: readonly string[]): void {
    this.want = tokens.map(digest);
  }

  readonly handler: RequestHandler = (req, _res, next) => {
    if (!/^\/api(\/|$)/i.test(req.path)) return next();
    const given = req.headers[INTERNAL_TOKEN_HEADER];
    if (typeof given !== 'string' || given === '')
      return next(
        new UnauthorizedError(
          'this Job Runner takes calls from Request Managers only: internal token required',
        ),
      );
    const d = digest(given);
    if (!this.want.some((w) => timingSafeEqual(d, w)))
      return next(new UnauthorizedError('invalid internal token'));
    next();
  };
}
