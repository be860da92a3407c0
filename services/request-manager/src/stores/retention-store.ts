/**
 * Deleting old final requests with everything stored for them, in small
 * bounded transactions: the job log goes first in chunks of at most
 * `logRows` rows, then args, archive pieces, archive, suspended chain and the
 * request row in one short transaction per batch. A purge cut short
 * anywhere leaves the request row, so the next run finds it again.
 */
import { FINAL_STATES } from '@spincycle/protocol';
import type { Db } from '../db/db.js';
import { PARTS_TABLE } from './archive-parts.js';

/** Tables keyed by request id, deleted with it (children before the request row). */
const CHILD_TABLES = ['request_args', PARTS_TABLE, 'request_archives', 'suspended_job_chains'] as const;

export interface PurgeBatch {
  requests: number;
  /** Rows deleted in all tables. */
  rows: number;
}

export class RetentionStore {
  constructor(private readonly db: Db) {}

  /** Ids of up to `limit` final requests that finished before `before`, oldest first (index on finished_at). */
  async oldFinal(before: Date, limit: number): Promise<string[]> {
    const states = [...FINAL_STATES];
    const rows = await this.db.run((m) =>
      this.db.select<{ request_id: string }>(
        m,
        `SELECT \`request_id\` FROM \`requests\` WHERE \`finished_at\` < ? AND \`state\` IN (${states.map(() => '?').join(',')}) ORDER BY \`finished_at\` LIMIT ?`,
        [before, ...states, limit],
      ),
    );
    return rows.map((r) => String(r.request_id));
  }

  /**
   * Delete `ids` and what belongs to them: job-log rows `logRows` at a time
   * (each chunk its own statement, so no transaction grows with a big log),
   * then the rest in one transaction. Returns the rows deleted.
   */
  async purge(ids: readonly string[], logRows: number): Promise<PurgeBatch> {
    if (ids.length === 0) return { requests: 0, rows: 0 };
    const inList = `(${ids.map(() => '?').join(',')})`;
    let rows = 0;
    for (;;) {
      const n = await this.db.run((m) =>
        this.db.exec(
          m,
          this.db.kind === 'mysql'
            ? `DELETE FROM \`job_log\` WHERE \`request_id\` IN ${inList} LIMIT ?`
            : // SQLite is built without DELETE … LIMIT: the same bound through the primary key.
              `DELETE FROM \`job_log\` WHERE rowid IN (SELECT rowid FROM \`job_log\` WHERE \`request_id\` IN ${inList} LIMIT ?)`,
          [...ids, logRows],
        ),
      );
      rows += n;
      if (n < logRows) break;
    }
    const [children, requests] = await this.db.tx(async (m) => {
      let deleted = 0;
      for (const table of CHILD_TABLES)
        deleted += await this.db.exec(m, `DELETE FROM \`${table}\` WHERE \`request_id\` IN ${inList}`, [
          ...ids,
        ]);
      const states = [...FINAL_STATES];
      // Only while still final (a request is never un-finalized, but the guard costs nothing).
      const reqs = await this.db.exec(
        m,
        `DELETE FROM \`requests\` WHERE \`request_id\` IN ${inList} AND \`state\` IN (${states.map(() => '?').join(',')})`,
        [...ids, ...states],
      );
      return [deleted, reqs];
    });
    return { requests, rows: rows + children + requests };
  }
}
