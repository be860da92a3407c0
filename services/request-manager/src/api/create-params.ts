/**
 * The parameters of POST /api/v1/requests that are not in its body: the
 * `dryRun` query parameter and the `Idempotency-Key` header. Checked before
 * the body is read, so a bad one is a 400 naming it whatever the body is.
 */
import { ValidationError } from '@spincycle/protocol';
import type { RequestHandler, Response } from 'express';
import { IDEMPOTENCY_HEADER, parseIdempotencyKey } from '../idempotency.js';
import { rawQuery } from './context.js';

export interface CreateParams {
  dryRun: boolean;
  idempotencyKey?: string;
}

/** `dryRun` from a raw query string: `true`, `false` or absent (false); anything else is a 400 naming it. */
function parseDryRun(query: string): boolean {
  const values = new URLSearchParams(query).getAll('dryRun');
  if (values.length === 0) return false;
  if (values.length > 1)
    throw new ValidationError('query parameter dryRun was given more than once', 'dryRun');
  const v = values[0];
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ValidationError(
    `query parameter dryRun must be true or false, got '${String(v).slice(0, 40)}'`,
    'dryRun',
  );
}

/** Middleware (before the body is read): parse both into `res.locals.createParams`. */
export const createParams: RequestHandler = (req, res, next) => {
  try {
    const params: CreateParams = { dryRun: parseDryRun(rawQuery(req)) };
    const key = parseIdempotencyKey(req.get(IDEMPOTENCY_HEADER));
    if (key !== undefined) params.idempotencyKey = key;
    res.locals.createParams = params;
    next();
  } catch (err) {
    next(err);
  }
};

export function createParamsOf(res: Response): CreateParams {
  return (res.locals.createParams as CreateParams | undefined) ?? { dryRun: false };
}
