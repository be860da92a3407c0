/**
 * The writes of a Job Runner's report batch: job-log INSERTs, then progress
 * UPDATEs, then finish UPDATEs, in that order, as few round trips as
 * `Db.execStatements` allows (one on MySQL for any usual batch). Progress and
 * finishes touch RUNNING requests only.
 */
import type { JobLog, StateValue } from '@spincycle/protocol';
import type { Db } from '../db/db.js';
import type { Statement } from '../db/sql.js';
import type { JobLogStore } from './job-log-store.js';

/** Requests per UPDATE (one CASE arm per request). */
const UPDATE_CHUNK = 500;

interface FinishWrite {
  id: string;
  state: StateValue;
  finishedAt: Date;
  finishedJobs: number;
}

export interface ReportWrites {
  entries: JobLog[];
  progress: ReadonlyArray<{ id: string; finishedJobs: number }>;
  /** Distinct request ids. */
  finishes: ReadonlyArray<FinishWrite>;
}

/**
 * Statements setting `finished_jobs` of each request that is RUNNING (others
 * are left alone): one UPDATE per 500 requests.
 */
function progressStatements(items: ReportWrites['progress']): Statement[] {
  const out: Statement[] = [];
  for (let i = 0; i < items.length; i += UPDATE_CHUNK) {
    const chunk = items.slice(i, i + UPDATE_CHUNK);
    const params: unknown[] = [];
    for (const p of chunk) params.push(p.id, p.finishedJobs);
    for (const p of chunk) params.push(p.id);
    out.push({
      sql: `UPDATE \`requests\` SET \`finished_jobs\` = CASE \`request_id\` ${chunk.map(() => 'WHEN ? THEN ?').join(' ')} ELSE \`finished_jobs\` END WHERE \`request_id\` IN (${chunk.map(() => '?').join(',')}) AND \`state\` = 2`,
      params,
    });
  }
  return out;
}

/**
 * Statements moving each request RUNNING → its final state, with
 * `finished_at`, `finished_jobs` and `jr_url` NULL: one conditional UPDATE
 * per 500 requests. Rows that are not RUNNING any more are untouched, so
 * affected counts that add up to `items.length` mean every one of them was
 * finished by these statements. Ids must be distinct.
 */
function finishStatements(items: ReadonlyArray<FinishWrite>): Statement[] {
  const out: Statement[] = [];
  for (let i = 0; i < items.length; i += UPDATE_CHUNK) {
    const chunk = items.slice(i, i + UPDATE_CHUNK);
    const whens = chunk.map(() => 'WHEN ? THEN ?').join(' ');
    const params: unknown[] = [];
    for (const f of chunk) params.push(f.id, f.state);
    for (const f of chunk) params.push(f.id, f.finishedAt);
    for (const f of chunk) params.push(f.id, f.finishedJobs);
    for (const f of chunk) params.push(f.id);
    out.push({
      sql:
        `UPDATE \`requests\` SET \`state\` = CASE \`request_id\` ${whens} END, ` +
        `\`finished_at\` = CASE \`request_id\` ${whens} END, ` +
        `\`finished_jobs\` = CASE \`request_id\` ${whens} END, \`jr_url\` = NULL ` +
        `WHERE \`request_id\` IN (${chunk.map(() => '?').join(',')}) AND \`state\` = 2`,
      params,
    });
  }
  return out;
}

export class ReportStore {
  constructor(
    private readonly db: Db,
    private readonly logs: JobLogStore,
  ) {}

  /**
   * Apply `w`: returns how many job-log entries were inserted (existing keys
   * are skipped) and how many requests were finished (moved from RUNNING).
   */
  async apply(w: ReportWrites): Promise<{ inserted: number; finished: number }> {
    const logStatements = w.entries.length > 0 ? this.logs.insertStatements(w.entries) : [];
    const progress = w.progress.length > 0 ? progressStatements(w.progress) : [];
    const finishes = finishStatements(w.finishes);
    const counts = await this.db.execStatements([...logStatements, ...progress, ...finishes]);
    let inserted = 0;
    for (let i = 0; i < logStatements.length; i++) inserted += counts[i] as number;
    let finished = 0;
    for (let i = counts.length - finishes.length; i < counts.length; i++) finished += counts[i] as number;
    return { inserted, finished };
  }
}
