/**
 * How `requests` rows look in SQL, in memory and on the wire: the column
 * list, a raw row as either driver returns it, the wire Request built from a
 * row, and the stored form of searchable args.
 */
import { createHash } from 'node:crypto';
import {
  type Request,
  type RequestArg,
  stringifyJson,
  toRfc3339,
  toRfc3339OrNull,
} from '@spincycle/protocol';
import type { RequestRow } from '../db/entities.js';
import { dbDate } from '../db/sql.js';

export const REQUEST_COLUMNS = [
  'request_id',
  'type',
  'state',
  'user',
  'created_at',
  'started_at',
  'finished_at',
  'total_jobs',
  'finished_jobs',
  'jr_url',
] as const;
const ARG_VALUE_MAX = 255;
export const ARG_NAME_MAX = 100;

/** String form of an arg value for exact matching: strings as they are, everything else as JSON. */
export function argText(value: unknown): string {
  return typeof value === 'string' ? value : (stringifyJson(value) ?? 'null');
}

/**
 * What is stored in `request_args.value` (and compared by the find filter):
 * the text itself when it fits the indexed column, else a digest of it, so
 * long values still match exactly.
 */
export function argIndexValue(text: string): string {
  return text.length <= ARG_VALUE_MAX ? text : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A request row as the wire Request (no args, no chain). */
export function toWireRequest(row: RequestRow): Request {
  const req: Request = {
    id: row.request_id,
    type: row.type,
    state: Number(row.state),
    user: row.user ?? '',
    createdAt: toRfc3339(row.created_at),
    startedAt: toRfc3339OrNull(row.started_at),
    finishedAt: toRfc3339OrNull(row.finished_at),
    totalJobs: Number(row.total_jobs),
    finishedJobs: Number(row.finished_jobs),
  };
  if (row.jr_url) req.jrURL = row.jr_url;
  return req;
}

/** Wire key order of a full Request (args and JobChain in their places). */
export function withArgs(req: Request, args: RequestArg[] | undefined): Request {
  const { id, type, state, user, createdAt, startedAt, finishedAt, totalJobs, finishedJobs, jrURL } = req;
  const out: Request = {
    id,
    type,
    state,
    user,
    args,
    createdAt,
    startedAt,
    finishedAt,
    totalJobs,
    finishedJobs,
  };
  if (args === undefined) delete out.args;
  if (jrURL) out.jrURL = jrURL;
  return out;
}

/** A `requests` row as either driver returns it from plain SQL. */
export type RawRequest = Record<keyof RequestRow, unknown>;

export const REQUEST_SELECT_LIST = REQUEST_COLUMNS.map((c) => `r.\`${c}\``).join(', ');
export const SELECT_REQUEST = `SELECT ${REQUEST_SELECT_LIST} FROM \`requests\` r`;

export function toRequestRow(r: RawRequest): RequestRow {
  return {
    request_id: String(r.request_id),
    type: String(r.type),
    state: Number(r.state),
    user: r.user === null || r.user === undefined ? null : String(r.user),
    created_at: dbDate(r.created_at) as Date,
    started_at: dbDate(r.started_at),
    finished_at: dbDate(r.finished_at),
    total_jobs: Number(r.total_jobs),
    finished_jobs: Number(r.finished_jobs),
    jr_url: r.jr_url === null || r.jr_url === undefined ? null : String(r.jr_url),
  };
}

/** A request row with its archived args and (when read) chain, as JSON text. */
export interface FullRequest {
  row: RequestRow;
  argsJson?: string;
  jobChainJson?: string;
  /** Names of its secret args (empty: none). */
  secretArgs: string[];
}

/** The stored `secret_args` column: a JSON list of names, or NULL. */
export function parseSecretArgs(text: unknown): string[] {
  if (typeof text !== 'string' || text === '') return [];
  const v: unknown = JSON.parse(text);
  return Array.isArray(v) ? v.map(String) : [];
}
