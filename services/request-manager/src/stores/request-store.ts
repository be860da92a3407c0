/**
 * Requests, their archives and their searchable args. Every state change is a
 * conditional UPDATE (`WHERE request_id=? AND state IN (…)`) whose affected
 * count says whether it happened: never read-then-write.
 */
import { type StateValue, storedState, stringifyJson } from '@spincycle/protocol';
import { MicroBatcher, type Settled } from '@spincycle/service-kit';
import type { EntityManager, WhereExpressionBuilder } from 'typeorm';
import type { Db } from '../db/db.js';
import { databaseError } from '../db/db-errors.js';
import { RequestArchiveEntity, RequestEntity, type RequestRow } from '../db/entities.js';
import { dbDate, type Statement } from '../db/sql.js';
import { type ArchivedField, partStatements, readArchived, splitArchived } from './archive-parts.js';
import {
  ARG_NAME_MAX,
  argIndexValue,
  argText,
  type FullRequest,
  parseSecretArgs,
  type RawRequest,
  REQUEST_COLUMNS,
  REQUEST_SELECT_LIST,
  SELECT_REQUEST,
  toRequestRow,
} from './request-rows.js';

// The wire form of a row, for the readers of this store.

/** What the find endpoint filters on (already validated). */
export interface FindFilter {
  type?: string;
  user?: string;
  states?: number[];
  /** Arg name → exact value. */
  args?: Record<string, string>;
  since?: Date;
  until?: Date;
  /** 0 or undefined = no limit. */
  limit?: number;
  offset?: number;
  /** Only requests this caller may read: their own, and those of these types (see Authorizer.readScope). */
  readableBy?: { user: string; types: string[] };
  /** Keyset paging: only requests after this one in the answer's order (created_at, id descending). */
  after?: { createdAt: Date; id: string };
}

export interface NewRequest {
  row: RequestRow;
  /** Pre-serialised archive columns. */
  createRequestJson: string;
  argsJson: string;
  jobChainJson: string;
  /** Caller-given args for the find filter (secret ones are left out: find cannot probe them). */
  givenArgs: Record<string, unknown>;
  /** Names of the request's secret args, stored with the archive. */
  secretArgs?: readonly string[];
  /** More statements of the same transaction (the request's lock rows, see locks.ts). */
  extra?: readonly Statement[];
}

const ARCHIVE_COLUMNS = ['request_id', 'create_request', 'args', 'job_chain', 'secret_args'] as const;

const PATCHABLE = new Set(['state', 'started_at', 'finished_at', 'finished_jobs', 'jr_url']);

/** `a = ?, b = ?` and its values, for the columns a patch sets. */
function setClause(patch: RequestPatch): [string, unknown[]] {
  const cols = Object.keys(patch);
  for (const c of cols) {
    if (!PATCHABLE.has(c)) throw new Error(`cannot patch column ${c}`);
    // An undefined value is a bug upstream (e.g. a time that did not parse): never a silent NULL or skip.
    if ((patch as Record<string, unknown>)[c] === undefined)
      throw new Error(`patch of column ${c} is undefined`);
  }
  return [cols.map((c) => `\`${c}\` = ?`).join(', '), cols.map((c) => (patch as Record<string, unknown>)[c])];
}

export type RequestPatch = Partial<
  Omit<RequestRow, 'request_id' | 'type' | 'user' | 'created_at' | 'total_jobs'>
>;

export class RequestStore {
  /**
   * Creates that arrive while an insert is under way are stored together, in
   * one transaction of multi-row INSERTs (a group commit): under load the
   * database pays one commit for several requests, a lone create goes at once.
   */
  private readonly creates = new MicroBatcher<NewRequest, void>({
    run: (reqs) => this.insertGroup(reqs),
    maxInFlight: 1,
    maxItems: 32,
    // Keeps a group's transaction small; a bigger request goes alone (and every statement is cut to the packet size).
    sizeOf: (req) => req.jobChainJson.length + req.argsJson.length + req.createRequestJson.length,
    maxSize: 4 * 1024 * 1024,
  });

  constructor(private readonly db: Db) {}

  /** Insert the request, its archive and its searchable args in ONE transaction. */
  create(req: NewRequest): Promise<void> {
    return this.creates.submit(req).catch((err: unknown) => {
      throw databaseError(err, `storing request ${req.row.request_id}`);
    });
  }

  /**
   * One transaction for all of `reqs`. If it fails and holds several, each is
   * tried alone, so one bad request fails only its own create.
   */
  private async insertGroup(reqs: NewRequest[]): Promise<Settled<void>[]> {
    try {
      await this.db.txStatements(this.insertStatements(reqs));
      return reqs.map(() => ({ ok: true, value: undefined }));
    } catch (err) {
      if (reqs.length === 1) throw err;
    }
    return Promise.all(
      reqs.map((req) =>
        this.db.txStatements(this.insertStatements([req])).then(
          (): Settled<void> => ({ ok: true, value: undefined }),
          (error: unknown): Settled<void> => ({ ok: false, error }),
        ),
      ),
    );
  }

  /**
   * Multi-row INSERTs of requests, archives (big texts in pieces, see
   * archive-parts.ts) and args, each statement under the database's
   * statement size (hand-written SQL: on MySQL a transaction that fits one
   * packet is one round trip, see Db.txStatements).
   */
  private insertStatements(reqs: NewRequest[]): Statement[] {
    const requestRows: unknown[][] = [];
    const archiveRows: unknown[][] = [];
    const partRows: unknown[][] = [];
    const argRows: unknown[][] = [];
    const archived = (id: string, field: ArchivedField, text: string): string => {
      const { column, parts } = splitArchived(this.db, id, field, text);
      for (const p of parts) partRows.push(p);
      return column;
    };
    for (const req of reqs) {
      const r = req.row;
      const id = r.request_id;
      requestRows.push(REQUEST_COLUMNS.map((c) => r[c]));
      const secret = req.secretArgs ?? [];
      archiveRows.push([
        id,
        archived(id, 'create_request', req.createRequestJson),
        archived(id, 'args', req.argsJson),
        archived(id, 'job_chain', req.jobChainJson),
        secret.length > 0 ? stringifyJson(secret) : null,
      ]);
      for (const [name, value] of Object.entries(req.givenArgs)) {
        if (name.length > ARG_NAME_MAX) continue; // not findable; spec arg names are short
        if (secret.includes(name)) continue;
        argRows.push([id, name, argIndexValue(argText(value))]);
      }
    }
    return [
      ...this.db.insertStatements('requests', REQUEST_COLUMNS, requestRows),
      ...this.db.insertStatements('request_archives', ARCHIVE_COLUMNS, archiveRows),
      ...partStatements(this.db, partRows),
      ...this.db.insertStatements('request_args', ['request_id', 'name', 'value'], argRows),
      // More statements of the same transaction (each request's lock rows, see locks.ts).
      ...reqs.flatMap((req) => req.extra ?? []),
    ];
  }

  async get(id: string): Promise<RequestRow | undefined> {
    const rows = await this.db.run((m) =>
      this.db.select<RawRequest>(m, `${SELECT_REQUEST} WHERE r.\`request_id\` = ?`, [id]),
    );
    return rows[0] ? toRequestRow(rows[0]) : undefined;
  }

  /** The archived job chain, as the JSON text stored at create. */
  async jobChainJson(id: string): Promise<string | undefined> {
    return this.archiveColumn(id, 'job_chain');
  }

  /** Request row plus archived args and (optionally) the chain text, in one query. */
  async getFull(id: string, withChain: boolean): Promise<FullRequest | undefined> {
    const sql = `SELECT ${REQUEST_SELECT_LIST}, a.\`args\` AS archive_args, a.\`secret_args\` AS archive_secrets${withChain ? ', a.`job_chain` AS archive_chain' : ''} FROM \`requests\` r LEFT JOIN \`request_archives\` a ON a.\`request_id\` = r.\`request_id\` WHERE r.\`request_id\` = ?`;
    const rows = await this.db.run((m) =>
      this.db.select<
        RawRequest & {
          archive_args?: string | null;
          archive_chain?: string | null;
          archive_secrets?: unknown;
        }
      >(m, sql, [id]),
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      row: toRequestRow(r),
      argsJson: await readArchived(this.db, id, 'args', r.archive_args),
      jobChainJson: withChain ? await readArchived(this.db, id, 'job_chain', r.archive_chain) : undefined,
      secretArgs: parseSecretArgs(r.archive_secrets),
    };
  }

  private async archiveColumn(id: string, column: ArchivedField): Promise<string | undefined> {
    const raw = await this.db.run(
      async (m) =>
        (await m
          .createQueryBuilder(RequestArchiveEntity, 'a')
          .select(`a.${column}`, 'v')
          .where('a.request_id = :id', { id })
          .getRawOne()) as { v?: string } | undefined,
    );
    return readArchived(this.db, id, column, raw?.v);
  }

  /**
   * Compare-and-set: apply `patch` only when the request is in one of `from`.
   * Returns whether the row changed state.
   */
  transition(
    id: string,
    from: number | readonly number[],
    patch: RequestPatch,
    m?: EntityManager,
  ): Promise<boolean> {
    const states = Array.isArray(from) ? [...from] : [from as number];
    const [set, values] = setClause(patch);
    const sql = `UPDATE \`requests\` SET ${set} WHERE \`request_id\` = ? AND \`state\` IN (${states.map(() => '?').join(',')})`;
    const run = async (mm: EntityManager) => (await this.db.exec(mm, sql, [...values, id, ...states])) > 0;
    return m ? run(m) : this.db.run(run);
  }

  /** Set columns only while the request is in `state` and (optionally) still has `jrUrl`. */
  async patchIf(
    id: string,
    state: StateValue,
    patch: RequestPatch,
    cond: { jrUrl?: string } = {},
  ): Promise<boolean> {
    const [set, values] = setClause(patch);
    let sql = `UPDATE \`requests\` SET ${set} WHERE \`request_id\` = ? AND \`state\` = ?`;
    const params = [...values, id, state];
    if (cond.jrUrl !== undefined) {
      sql += ' AND `jr_url` = ?';
      params.push(cond.jrUrl);
    }
    return this.db.run(async (m) => (await this.db.exec(m, sql, params)) > 0);
  }

  find(f: FindFilter): Promise<RequestRow[]> {
    return this.db.run(async (m) => {
      const qb = m.createQueryBuilder(RequestEntity, 'r');
      if (f.type !== undefined) qb.andWhere('r.type = :type', { type: f.type });
      if (f.user !== undefined) qb.andWhere('r.user = :user', { user: f.user });
      if (f.states && f.states.length > 0) qb.andWhere('r.state IN (:...states)', { states: f.states });
      if (f.readableBy) readableWhere(qb, f.readableBy);
      Object.entries(f.args ?? {}).forEach(([name, value], i) => {
        // One indexed lookup per arg; all must match.
        qb.andWhere(
          `r.request_id IN (SELECT a${i}.request_id FROM request_args a${i} WHERE a${i}.name = :an${i} AND a${i}.value = :av${i})`,
          {
            [`an${i}`]: name,
            [`av${i}`]: argIndexValue(value),
          },
        );
      });
      // "Was running at some point in [since, until)".
      if (f.since) qb.andWhere('(r.finished_at > :since OR r.finished_at IS NULL)', { since: f.since });
      if (f.until) qb.andWhere('r.created_at < :until', { until: f.until });
      // The same order as the ORDER BY, so a page costs an index range scan at any depth.
      if (f.after)
        qb.andWhere('(r.created_at < :afterAt OR (r.created_at = :afterAt AND r.request_id < :afterId))', {
          afterAt: f.after.createdAt,
          afterId: f.after.id,
        });
      qb.orderBy('r.created_at', 'DESC').addOrderBy('r.request_id', 'DESC');
      // MySQL has no OFFSET without LIMIT: an unbounded limit stands in.
      if (f.limit || f.offset) qb.limit(f.limit || Number.MAX_SAFE_INTEGER);
      if (f.offset) qb.offset(f.offset);
      return qb.getMany();
    });
  }

  async getMany(ids: string[]): Promise<RequestRow[]> {
    if (ids.length === 0) return [];
    const sql = `${SELECT_REQUEST} WHERE r.\`request_id\` IN (${ids.map(() => '?').join(',')})`;
    return (await this.db.run((m) => this.db.select<RawRequest>(m, sql, ids))).map(toRequestRow);
  }

  /** State of each of `ids` that exists (one indexed query per 500 ids). */
  async statesOf(ids: string[]): Promise<Map<string, { state: StateValue; jrUrl: string | null }>> {
    const out = new Map<string, { state: StateValue; jrUrl: string | null }>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.db.run((m) =>
        this.db.select<{ request_id: string; state: unknown; jr_url: unknown }>(
          m,
          `SELECT \`request_id\`, \`state\`, \`jr_url\` FROM \`requests\` WHERE \`request_id\` IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        ),
      );
      for (const r of rows)
        out.set(String(r.request_id), {
          state: storedState(r.state),
          jrUrl: r.jr_url === null || r.jr_url === undefined ? null : String(r.jr_url),
        });
    }
    return out;
  }

  /** Every RUNNING request: id, JR and start time (the lost-JR sweeper's view). */
  async running(): Promise<Array<{ id: string; jrUrl: string | null; startedAt: Date | null }>> {
    const rows = await this.db.run((m) =>
      this.db.select<{ request_id: string; jr_url: unknown; started_at: unknown }>(
        m,
        'SELECT `request_id`, `jr_url`, `started_at` FROM `requests` WHERE `state` = ?',
        [2],
      ),
    );
    return rows.map((r) => ({
      id: String(r.request_id),
      jrUrl: r.jr_url === null || r.jr_url === undefined ? null : String(r.jr_url),
      startedAt: dbDate(r.started_at),
    }));
  }

  /**
   * RUNNING → `state` for a request whose Job Runner was lost, only while it is
   * still RUNNING on `jrUrl` and (with `silentSince`) that JR has not been heard
   * from since then: a heartbeat that lands meanwhile wins.
   */
  failLost(
    m: EntityManager,
    id: string,
    jrUrl: string | null,
    state: StateValue,
    finishedAt: Date,
    silentSince?: Date,
  ): Promise<boolean> {
    // A request whose every job completed (only its finish was lost) counts them all.
    const jobs = state === 3 ? ', `finished_jobs` = `total_jobs`' : '';
    let sql = `UPDATE \`requests\` SET \`state\` = ?, \`finished_at\` = ?, \`jr_url\` = NULL${jobs} WHERE \`request_id\` = ? AND \`state\` = ?`;
    const params: unknown[] = [state, finishedAt, id, 2];
    if (jrUrl === null) sql += ' AND `jr_url` IS NULL';
    else {
      sql += ' AND `jr_url` = ?';
      params.push(jrUrl);
      if (silentSince) {
        sql += ' AND NOT EXISTS (SELECT 1 FROM `job_runners` j WHERE j.`jr_url` = ? AND j.`last_seen` >= ?)';
        params.push(jrUrl, silentSince);
      }
    }
    return this.db.exec(m, sql, params).then((n) => n > 0);
  }

  /** Distinct JR URLs of RUNNING requests (optionally of one request). */
  async runningJrUrls(requestId?: string): Promise<string[]> {
    return this.db.run(async (m) => {
      const qb = m
        .createQueryBuilder(RequestEntity, 'r')
        .select('DISTINCT r.jr_url', 'jr_url')
        .where('r.state = :state', { state: 2 })
        .andWhere('r.jr_url IS NOT NULL');
      if (requestId) qb.andWhere('r.request_id = :id', { id: requestId });
      const rows = (await qb.getRawMany()) as Array<{ jr_url: string }>;
      return rows.map((r) => r.jr_url);
    });
  }
}

/** Find's read filter: the caller's own requests, or those of a readable type. */
function readableWhere(qb: WhereExpressionBuilder, by: { user: string; types: string[] }): void {
  if (by.types.length === 0) qb.andWhere('r.user = :readUser', { readUser: by.user });
  else
    qb.andWhere('(r.user = :readUser OR r.type IN (:...readTypes))', {
      readUser: by.user,
      readTypes: by.types,
    });
}
