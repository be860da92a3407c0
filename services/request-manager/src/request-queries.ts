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
import { requestNotFound } from './request-errors.js';
import { redactArgs, redactChain, secretValues } from './secrets.js';
import type { JobLogStore } from './stores/job-log-store.js';
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
  /** Who may read which request (default: everyone everything). */
  authorizer?: Authorizer;
  /** The request types the specs define (for find's read filter). */
  requestTypes?: () => string[];
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
    return requestJsonParts(wire, this.chainText(full, args));
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
    const authz = this.d.authorizer ?? allowAllAuthorizer;
    if (!authz.readScope) {
      const rows = (await this.d.requests.find(filter)).map(toWireRequest);
      const ok = await Promise.all(rows.map(async (r) => (await authz.authorize(caller, 'read', r)).allowed));
      return rows.filter((_r, i) => ok[i]);
    }
    const scope = authz.readScope(caller, this.d.requestTypes?.() ?? []);
    const f = scope.all ? filter : { ...filter, readableBy: { user: scope.user, types: scope.types } };
    return (await this.d.requests.find(f)).map(toWireRequest);
  }

  /** GET /requests/{id}/log as JSON text (JobLogStore.list serialised, built directly from the rows). */
  async listLogsJson(caller: Caller, id: string): Promise<string> {
    const checked = await this.mayReadById(caller, id);
    const { json, count } = await this.d.logs.listJson(id);
    if (count === 0 && !checked && !(await this.d.requests.get(id))) throw requestNotFound(id);
    return json;
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
