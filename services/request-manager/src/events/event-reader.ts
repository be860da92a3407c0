/**
 * Reads what happened to a request since a cursor, from the database only (any
 * RM answers any stream): the request row, then the job-log entries stored
 * after the cursor's sequence (`seq` on MySQL, `rowid` on SQLite; index
 * (request_id, seq)). The row is read first: every entry stored before the row
 * turned final is then seen by the entry read, so `final` never overtakes a log.
 */
import type { Db } from '../db/db.js';
import type { JobLogRow, RequestRow } from '../db/entities.js';
import { entryJson } from '../stores/job-log-store.js';
import type { RequestStore } from '../stores/request-store.js';

const LOG_COLUMNS =
  '`request_id`, `job_id`, `try`, `name`, `type`, `state`, `started_at`, `finished_at`, `exit`, `error`, `stdout`, `stderr`';

/** One job-log entry with its storage sequence (a decimal string). */
interface SequencedEntry {
  seq: string;
  json: string;
}

export interface Changes {
  /** The request row; undefined when the request does not exist. */
  row: RequestRow | undefined;
  entries: SequencedEntry[];
  /** More entries than `limit` were waiting: read again before treating the state as settled. */
  more: boolean;
}

export class EventReader {
  private readonly seqColumn: string;

  constructor(
    private readonly db: Db,
    private readonly requests: RequestStore,
  ) {
    this.seqColumn = db.kind === 'mysql' ? '`seq`' : '`rowid`';
  }

  async since(requestId: string, afterSeq: string, limit: number): Promise<Changes> {
    const row = await this.requests.get(requestId);
    if (!row) return { row, entries: [], more: false };
    const rows = await this.db.run((m) =>
      this.db.select<JobLogRow & { ev_seq: unknown }>(
        m,
        `SELECT ${this.seqColumn} AS ev_seq, ${LOG_COLUMNS} FROM \`job_log\` WHERE \`request_id\` = ? AND ${this.seqColumn} > ? ORDER BY ${this.seqColumn} LIMIT ${limit + 1}`,
        // SQLite compares rowid with a number, MySQL's BIGINT takes the exact decimal.
        [requestId, this.db.kind === 'mysql' ? afterSeq : Number(afterSeq)],
      ),
    );
    const more = rows.length > limit;
    const entries = rows.slice(0, limit).map((r) => ({ seq: String(r.ev_seq), json: entryJson(r) }));
    return { row, entries, more };
  }
}
