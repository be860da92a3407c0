/**
 * Job log entries: one row per (request, job, try). Inserts are multi-row and
 * skip keys that already exist, so a JR re-sending a batch never duplicates.
 * Nanosecond times are kept as exact decimal strings end to end.
 */
import { type JobLog, type StateValue, storedState } from '@spincycle/protocol';
import type { EntityManager } from 'typeorm';
import type { Db } from '../db/db.js';
import { JobLogEntity, type JobLogRow } from '../db/entities.js';
import type { Statement } from '../db/sql.js';

/** Rows per INSERT, and a byte budget per statement (lowered to the database's statement size, see Db.statementBytes). */
const BATCH_ROWS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

export function toJobLogRow(e: JobLog): JobLogRow {
  return {
    request_id: e.requestId,
    job_id: e.jobId,
    try: e.try,
    name: e.name,
    type: e.type,
    state: e.state,
    started_at: BigInt(e.startedAt).toString(),
    finished_at: BigInt(e.finishedAt).toString(),
    exit: Math.trunc(Number(e.exit ?? 0)),
    error: e.error ?? '',
    stdout: e.stdout ?? '',
    stderr: e.stderr ?? '',
  };
}

/** A stored nanosecond time as a JSON integer (what `toWireJobLog` + `stringifyJson` write). */
function nanosJson(v: unknown): string {
  if (typeof v === 'string' && /^[1-9]\d*$|^0$/.test(v)) return v;
  return BigInt(v as string | number | bigint).toString();
}

/** One entry as the JSON text `stringifyJson(toWireJobLog(r))` gives. */
export function entryJson(r: JobLogRow): string {
  const j = JSON.stringify;
  return `{"requestId":${j(r.request_id)},"jobId":${j(r.job_id)},"try":${j(Number(r.try))},"name":${j(r.name)},"type":${j(r.type)},"startedAt":${nanosJson(r.started_at)},"finishedAt":${nanosJson(r.finished_at)},"state":${j(Number(r.state))},"exit":${j(Number(r.exit ?? 0))},"error":${j(r.error ?? '')},"stdout":${j(r.stdout ?? '')},"stderr":${j(r.stderr ?? '')}}`;
}

export function toWireJobLog(r: JobLogRow): JobLog {
  return {
    requestId: r.request_id,
    jobId: r.job_id,
    try: Number(r.try),
    name: r.name,
    type: r.type,
    startedAt: BigInt(r.started_at),
    finishedAt: BigInt(r.finished_at),
    state: storedState(r.state),
    exit: Number(r.exit ?? 0),
    error: r.error ?? '',
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
  };
}

const COLUMNS = [
  'request_id',
  'job_id',
  'try',
  'name',
  'type',
  'state',
  'started_at',
  'finished_at',
  'exit',
  'error',
  'stdout',
  'stderr',
] as const;

/** A job-log entry's place in log order: the (job_id, try) part of the primary key. */
export interface LogKey {
  jobId: string;
  try: number;
}

/** Entries per read of `jsonChunks`: the first chunk, the most, and the text a chunk aims at. */
const FIRST_CHUNK_ROWS = 4;
const MAX_CHUNK_ROWS = 1000;
export const CHUNK_BYTES = 2 * 1024 * 1024;

/** WHERE of a request's entries after `after` and up to `last` (in log order), with its parameters. */
function keyRange(
  requestId: string,
  after: LogKey | undefined,
  last: LogKey | undefined,
): [string, unknown[]] {
  let where = '`request_id` = ?';
  const params: unknown[] = [requestId];
  if (after) {
    where += ' AND (`job_id` > ? OR (`job_id` = ? AND `try` > ?))';
    params.push(after.jobId, after.jobId, after.try);
  }
  if (last) {
    where += ' AND (`job_id` < ? OR (`job_id` = ? AND `try` <= ?))';
    params.push(last.jobId, last.jobId, last.try);
  }
  return [where, params];
}

const SELECT = `SELECT ${COLUMNS.map((c) => `\`${c}\``).join(', ')} FROM \`job_log\``;

function values(r: JobLogRow): unknown[] {
  return [
    r.request_id,
    r.job_id,
    r.try,
    r.name,
    r.type,
    r.state,
    r.started_at,
    r.finished_at,
    r.exit,
    r.error,
    r.stdout,
    r.stderr,
  ];
}

/** Same content (the key being equal already)? */
export function sameEntry(a: JobLogRow, b: JobLogRow): boolean {
  return (
    a.name === b.name &&
    a.type === b.type &&
    Number(a.state) === Number(b.state) &&
    String(a.started_at) === String(b.started_at) &&
    String(a.finished_at) === String(b.finished_at) &&
    Number(a.exit) === Number(b.exit) &&
    (a.error ?? '') === (b.error ?? '') &&
    (a.stdout ?? '') === (b.stdout ?? '') &&
    (a.stderr ?? '') === (b.stderr ?? '')
  );
}

export class JobLogStore {
  constructor(private readonly db: Db) {}

  /** Insert entries of any requests; existing (request, job, try) keys are skipped. Returns how many were inserted. */
  async insertMany(entries: JobLog[]): Promise<number> {
    let inserted = 0;
    for (const st of this.insertStatements(entries))
      inserted += await this.db.run((m) => this.db.exec(m, st.sql, st.params));
    return inserted;
  }

  /**
   * The INSERT IGNORE statements that store `entries` (per 1,000 rows, each
   * under ~4 MiB and under the database's statement size), for `Db.execStatements`.
   */
  insertStatements(entries: JobLog[]): Statement[] {
    return this.db.insertStatements(
      'job_log',
      COLUMNS,
      entries.map((e) => values(toJobLogRow(e))),
      { ignoreDuplicates: true, maxRows: BATCH_ROWS, maxBytes: BATCH_BYTES },
    );
  }

  /** Inside a caller's transaction. */
  insertManyIn(m: EntityManager, entries: JobLog[]): Promise<number> {
    return this.db.insertRows(
      m,
      'job_log',
      COLUMNS,
      entries.map((e) => values(toJobLogRow(e))),
      { ignoreDuplicates: true },
    );
  }

  /**
   * Insert one entry. Re-sending the identical entry is fine (`inserted` false);
   * a different entry under an existing key is reported as `conflict`.
   */
  async insertOne(entry: JobLog): Promise<{ inserted: boolean; conflict: boolean }> {
    const row = toJobLogRow(entry);
    const inserted =
      (await this.db.run((m) =>
        this.db.insertRows(m, 'job_log', COLUMNS, [values(row)], { ignoreDuplicates: true }),
      )) > 0;
    if (inserted) return { inserted, conflict: false };
    const existing = await this.getTry(entry.requestId, entry.jobId, entry.try);
    return { inserted: false, conflict: !existing || !sameEntry(existing, row) };
  }

  private getTry(requestId: string, jobId: string, tryNo: number): Promise<JobLogRow | undefined> {
    return this.db.run(
      async (m) =>
        (await m
          .createQueryBuilder(JobLogEntity, 'l')
          .where('l.request_id = :requestId AND l.job_id = :jobId AND l.try = :tryNo', {
            requestId,
            jobId,
            tryNo,
          })
          .getOne()) ?? undefined,
    );
  }

  /** Every entry of a request, by job then try (plain SQL: entity hydration costs ~25 µs a row). */
  async list(requestId: string): Promise<JobLog[]> {
    const rows = (await this.db.run((m) =>
      m.query(`${SELECT} WHERE \`request_id\` = ? ORDER BY \`job_id\`, \`try\``, [requestId]),
    )) as JobLogRow[];
    return rows.map(toWireJobLog);
  }

  /** (job, try) of up to `n` entries of a request after `after`, in log order: the primary key only, no entry text. */
  async keys(requestId: string, after: LogKey | undefined, n: number): Promise<LogKey[]> {
    const [where, params] = keyRange(requestId, after, undefined);
    const rows = await this.db.run((m) =>
      this.db.select<{ job_id: string; try: unknown }>(
        m,
        `SELECT \`job_id\`, \`try\` FROM \`job_log\` WHERE ${where} ORDER BY \`job_id\`, \`try\` LIMIT ?`,
        [...params, n],
      ),
    );
    return rows.map((r) => ({ jobId: String(r.job_id), try: Number(r.try) }));
  }

  /**
   * The entries of a request in log order (job, then try) as JSON texts (see
   * `entryJson`), after `after` and up to and including `last` (absent: from
   * the start / to the end). Read by keyset in chunks of about CHUNK_BYTES, one
   * query each, with no connection or lock held between chunks: a reader that
   * writes each chunk out before asking for the next holds one chunk at a time.
   */
  async *jsonChunks(
    requestId: string,
    range: { after?: LogKey; last?: LogKey } = {},
  ): AsyncGenerator<string[], void, undefined> {
    let after = range.after;
    let rows = FIRST_CHUNK_ROWS;
    for (;;) {
      const [where, params] = keyRange(requestId, after, range.last);
      const chunk = await this.db.run((m) =>
        this.db.select<JobLogRow>(m, `${SELECT} WHERE ${where} ORDER BY \`job_id\`, \`try\` LIMIT ?`, [
          ...params,
          rows,
        ]),
      );
      if (chunk.length === 0) return;
      const out: string[] = new Array(chunk.length);
      let bytes = 0;
      for (let i = 0; i < chunk.length; i++) {
        out[i] = entryJson(chunk[i] as JobLogRow);
        bytes += (out[i] as string).length;
      }
      const end = chunk[chunk.length - 1] as JobLogRow;
      after = { jobId: String(end.job_id), try: Number(end.try) };
      const full = chunk.length === rows;
      chunk.length = 0;
      yield out;
      if (!full) return;
      // Size the next chunk from this one's entries: big entries, fewer rows.
      rows = Math.max(1, Math.min(MAX_CHUNK_ROWS, Math.floor(CHUNK_BYTES / Math.max(1, bytes / out.length))));
    }
  }

  /** (job, try, state) of every entry of a request: the cheap view for deciding what a lost request's jobs were doing. */
  async tryStates(requestId: string): Promise<Array<{ jobId: string; try: number; state: StateValue }>> {
    const rows = (await this.db.run((m) =>
      m.query('SELECT `job_id`, `try`, `state` FROM `job_log` WHERE `request_id` = ?', [requestId]),
    )) as Array<{ job_id: string; try: unknown; state: unknown }>;
    return rows.map((r) => ({ jobId: String(r.job_id), try: Number(r.try), state: storedState(r.state) }));
  }

  /** The latest try of one job, or undefined. */
  async latest(requestId: string, jobId: string): Promise<JobLog | undefined> {
    const rows = (await this.db.run((m) =>
      m.query(`${SELECT} WHERE \`request_id\` = ? AND \`job_id\` = ? ORDER BY \`try\` DESC LIMIT 1`, [
        requestId,
        jobId,
      ]),
    )) as JobLogRow[];
    return rows[0] ? toWireJobLog(rows[0]) : undefined;
  }
}
