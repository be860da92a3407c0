/**
 * Reads of requests and their job logs for the API. Stored JSON (the archived
 * chain, the job log) goes into answers as text where it can, without being
 * parsed and serialised again.
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
import { encodeFindCursor } from './find-query.js';
import { encodeLogCursor, type LogPageQuery } from './log-query.js';
import { requestNotFound } from './request-errors.js';
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
export function requestJsonParts(req: Request, chainJson: string | undefined): string[] {
  const { id, type, state, user, args, createdAt, startedAt, finishedAt, totalJobs, finishedJobs, jrURL } =
    req;
  const out: Record<string, unknown> = { id, type, state, user, args, createdAt, startedAt, finishedAt };
  if (args === undefined) delete out.args;
  if (chainJson !== undefined) out.JobChain = CHAIN_TOKEN;
  out.totalJobs = totalJobs;
  out.finishedJobs = finishedJobs;
  if (jrURL) out.jrURL = jrURL;
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
}

export class RequestQueries {
  constructor(private readonly d: RequestQueriesDeps) {}

  /** GET /requests/{id} (with args and the creation-time JobChain) as pieces of JSON text to write one after the other (see requestJsonParts). */
  async getJsonParts(id: string): Promise<string[]> {
    const full = await this.d.requests.getFull(id, true);
    if (!full) throw requestNotFound(id);
    const args = full.argsJson === undefined ? [] : parseStoredJson<RequestArg[]>(full.argsJson);
    return requestJsonParts(withArgs(toWireRequest(full.row), args), full.jobChainJson);
  }

  /** A request with its args, and its JobChain when `withChain`. */
  async get(id: string, withChain = false): Promise<Request> {
    const full = await this.d.requests.getFull(id, withChain);
    if (!full) throw requestNotFound(id);
    return wireRequestOf(full);
  }

  async jobChainJson(id: string): Promise<string> {
    const text = await this.d.requests.jobChainJson(id);
    if (text === undefined) throw requestNotFound(id);
    return text;
  }

  /** Find: rows without args or JobChain; `[]` when nothing matches. */
  async find(filter: FindFilter): Promise<Request[]> {
    return (await this.findPage(filter)).requests;
  }

  /** One page of find (`filter.limit` rows) and, when more match, the cursor of the next page. */
  async findPage(filter: FindFilter): Promise<{ requests: Request[]; nextCursor?: string }> {
    const limit = filter.limit ?? 0;
    // One row more than the page says whether there is a next page.
    const rows = await this.d.requests.find(limit > 0 ? { ...filter, limit: limit + 1 } : filter);
    const last = limit > 0 && rows.length > limit ? rows[limit - 1] : undefined;
    if (last) rows.length = limit;
    const requests = rows.map(toWireRequest);
    return last
      ? { requests, nextCursor: encodeFindCursor({ createdAt: last.created_at, id: last.request_id }) }
      : { requests };
  }

  /**
   * GET /requests/{id}/log: the entries of a page (or, without `limit`, all
   * after `after`) as chunks of JSON texts read from the database one after
   * the other (JobLogStore.jsonChunks), and the next page's cursor when more
   * entries follow. 404 before anything is read when the request is unknown.
   */
  async logPage(
    id: string,
    page: LogPageQuery,
  ): Promise<{ chunks: AsyncIterable<string[]>; nextCursor?: string }> {
    // Key-only reads: how far the page goes, and whether there is a next one.
    const keys = await this.d.logs.keys(id, page.after, page.limit === undefined ? 1 : page.limit + 1);
    if (keys.length === 0 && !(await this.d.requests.get(id))) throw requestNotFound(id);
    if (page.limit === undefined || keys.length <= page.limit)
      return { chunks: this.d.logs.jsonChunks(id, { after: page.after }) };
    const last = keys[page.limit - 1] as LogKey;
    return {
      chunks: this.d.logs.jsonChunks(id, { after: page.after, last }),
      nextCursor: encodeLogCursor(last),
    };
  }

  async latestLog(id: string, jobId: string): Promise<JobLog> {
    const entry = await this.d.logs.latest(id, jobId);
    if (entry) return entry;
    if (!(await this.d.requests.get(id))) throw requestNotFound(id);
    throw new NotFoundError(`job ${jobId} not found in request ${id}`);
  }
}
