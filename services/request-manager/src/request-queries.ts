/**
 * Reads of requests and their job logs for the API. Stored JSON (the archived
 * chain, the job log) goes into answers as text where it can, without being
 * parsed and serialised again. Every read is authorized (`read`, see
 * auth/acl.ts); args and chains of requests with secret args are redacted
 * (secrets.ts), the job log was masked as it arrived.
 */
import { randomBytes } from 'node:crypto';
import {
  type JobChain,
  type JobLog,
  NotFoundError,
  type Request,
  type RequestArg,
  stringifyJson,
} from '@spincycle/protocol';
import { type Authorizer, allowAllAuthorizer, type Caller, requireAuthorized } from './auth.js';
import type { RequestRow } from './db/entities.js';
import { encodeFindCursor } from './find-query.js';
import { encodeLogCursor, type LogPageQuery } from './log-query.js';
import { requestNotFound } from './request-errors.js';
import { redactArgs, redactChain, secretValues } from './secrets.js';
import type { JobLogStore, LogKey } from './stores/job-log-store.js';
import { type FullRequest, toWireRequest, withArgs } from './stores/request-rows.js';
import type { FindFilter, RequestStore } from './stores/request-store.js';
import { parseStoredJson } from './stores/stored-json.js';

const CHAIN_TOKEN = `@@job-chain-${randomBytes(8).toString('hex')}@@`;

/**
 * A full Request as JSON text in pieces, the archived chain verbatim between
 * them: a megabyte chain is neither parsed, re-serialised nor copied for a GET
 * (the pieces are written one after the other).
 */
export function requestJsonParts(
  req: Request,
  chainJson: string | undefined,
  extra?: Record<string, unknown>,
): string[] {
  const { id, type, state, user, args, createdAt, startedAt, finishedAt, totalJobs, finishedJobs, jrURL } =
    req;
  const out: Record<string, unknown> = { id, type, state, user, args, createdAt, startedAt, finishedAt };
  if (args === undefined) delete out.args;
  if (chainJson !== undefined) out.JobChain = CHAIN_TOKEN;
  out.totalJobs = totalJobs;
  out.finishedJobs = finishedJobs;
  if (jrURL) out.jrURL = jrURL;
  Object.assign(out, extra);
  const text = stringifyJson(out);
  if (chainJson === undefined) return [text];
  const at = text.indexOf(`"${CHAIN_TOKEN}"`);
  return [text.slice(0, at), chainJson, text.slice(at + CHAIN_TOKEN.length + 2)];
}

/** A stored request as the wire Request: its args, and its JobChain when that was read too. */
export function wireRequestOf(full: FullRequest): Request {
  const args = full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson);
  const req = withArgs(toWireRequest(full.row), args);
  if (full.jobChainJson !== undefined) req.JobChain = parseStoredJson<JobChain>(full.jobChainJson);
  return req;
}

export interface RequestQueriesDeps {
  requests: RequestStore;
  logs: JobLogStore;
  /** Who may read which request (default: everyone everything). */
  authorizer?: Authorizer;
  /** The request types the specs define (for find's read filter). */
  requestTypes?: () => string[];
  /** Fields added to GET /requests/{id} (e.g. `waitingFor`, `notifications`); none when it answers undefined. */
  extras?: (row: RequestRow) => Promise<Record<string, unknown> | undefined>;
}

export class RequestQueries {
  constructor(private readonly d: RequestQueriesDeps) {}

  /** GET /requests/{id} (with args and the creation-time JobChain) as pieces of JSON text to write one after the other (see requestJsonParts). */
  async getJsonParts(caller: Caller, id: string): Promise<string[]> {
    const full = await this.d.requests.getFull(id, true);
    if (!full) throw requestNotFound(id);
    await this.mayRead(caller, full);
    const args = full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson);
    const wire = withArgs(toWireRequest(full.row), redactArgs(args, full.secretArgs));
    return requestJsonParts(wire, this.chainText(full, args), await this.d.extras?.(full.row));
  }

  /** A request with its args, and its JobChain when `withChain`. */
  async get(id: string, withChain = false): Promise<Request> {
    const full = await this.d.requests.getFull(id, withChain);
    if (!full) throw requestNotFound(id);
    return wireRequestOf(full);
  }

  /** GET /requests/{id}/job-chain: the creation-time chain, secret values redacted. */
  async jobChainJson(caller: Caller, id: string): Promise<string> {
    const full = await this.d.requests.getFull(id, true);
    if (!full || full.jobChainJson === undefined) throw requestNotFound(id);
    await this.mayRead(caller, full);
    const args = full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson);
    return this.chainText(full, args) as string;
  }

  /** Find: rows without args or JobChain, only those the caller may read; `[]` when nothing matches. */
  async find(caller: Caller, filter: FindFilter): Promise<Request[]> {
    return (await this.findPage(caller, filter)).requests;
  }

  /**
   * One page of find (`filter.limit` rows, only those the caller may read: in
   * SQL through the authorizer's readScope) and, when more match, the cursor of
   * the next page.
   */
  async findPage(caller: Caller, filter: FindFilter): Promise<{ requests: Request[]; nextCursor?: string }> {
    const authz = this.d.authorizer ?? allowAllAuthorizer;
    const scope = authz.readScope?.(caller, this.d.requestTypes?.() ?? []);
    const scoped =
      scope && !scope.all ? { ...filter, readableBy: { user: scope.user, types: scope.types } } : filter;
    const limit = scoped.limit ?? 0;
    // One row more than the page says whether there is a next page.
    const rows = await this.d.requests.find(limit > 0 ? { ...scoped, limit: limit + 1 } : scoped);
    const last = limit > 0 && rows.length > limit ? rows[limit - 1] : undefined;
    if (last) rows.length = limit;
    let requests = rows.map(toWireRequest);
    if (!authz.readScope) {
      // An authorizer without readScope is asked row by row (such a page may come out shorter).
      const ok = await Promise.all(
        requests.map(async (r) => (await authz.authorize(caller, 'read', r)).allowed),
      );
      requests = requests.filter((_r, i) => ok[i]);
    }
    return last
      ? { requests, nextCursor: encodeFindCursor({ createdAt: last.created_at, id: last.request_id }) }
      : { requests };
  }

  /**
   * GET /requests/{id}/log: the entries of a page (or, without `limit`, all
   * after `after`) as chunks of JSON texts read from the database one after
   * the other (JobLogStore.jsonChunks), and the next page's cursor when more
   * entries follow. 404 (or the read check's 401) before anything is read.
   */
  async logPage(
    caller: Caller,
    id: string,
    page: LogPageQuery,
  ): Promise<{ chunks: AsyncIterable<string[]>; nextCursor?: string }> {
    const checked = await this.mayReadById(caller, id);
    // Key-only reads: how far the page goes, and whether there is a next one.
    const keys = await this.d.logs.keys(id, page.after, page.limit === undefined ? 1 : page.limit + 1);
    if (keys.length === 0 && !checked && !(await this.d.requests.get(id))) throw requestNotFound(id);
    if (page.limit === undefined || keys.length <= page.limit)
      return { chunks: this.d.logs.jsonChunks(id, { after: page.after }) };
    const last = keys[page.limit - 1] as LogKey;
    return {
      chunks: this.d.logs.jsonChunks(id, { after: page.after, last }),
      nextCursor: encodeLogCursor(last),
    };
  }

  async latestLog(caller: Caller, id: string, jobId: string): Promise<JobLog> {
    const checked = await this.mayReadById(caller, id);
    const entry = await this.d.logs.latest(id, jobId);
    if (entry) return entry;
    if (!checked && !(await this.d.requests.get(id))) throw requestNotFound(id);
    throw new NotFoundError(`job ${jobId} not found in request ${id}`);
  }

  // ---------------------------------------------------------------- read permission and redaction

  /** The archived chain text as answered: verbatim, or parsed and redacted when the request has secrets. */
  private chainText(full: FullRequest, args: RequestArg[]): string | undefined {
    if (full.jobChainJson === undefined || full.secretArgs.length === 0) return full.jobChainJson;
    const secrets = secretValues(args, full.secretArgs);
    const chain = redactChain(parseStoredJson<JobChain>(full.jobChainJson), secrets);
    return stringifyJson(chain);
  }

  private async mayRead(caller: Caller, full: FullRequest): Promise<void> {
    const authz = this.d.authorizer;
    if (authz) await requireAuthorized(authz, caller, 'read', toWireRequest(full.row));
  }

  /**
   * Checks `read` on a request by id when the caller does not read everything;
   * true when the request was found (so it exists), false when not checked.
   */
  private async mayReadById(caller: Caller, id: string): Promise<boolean> {
    const authz = this.d.authorizer;
    if (!authz || authz.readScope?.(caller, []).all) return false;
    const row = await this.d.requests.get(id);
    if (!row) throw requestNotFound(id);
    await requireAuthorized(authz, caller, 'read', toWireRequest(row));
    return true;
  }
}
