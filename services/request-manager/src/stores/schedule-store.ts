/**
 * `schedule_runs`: one row per (schedule, due time), inserted by the RM that
 * fires the run before it creates the request; the primary key makes a
 * second RM's insert a no-op, so each due time is fired at most once, across
 * RMs and restarts. Also records skipped runs, so later ticks start after them.
 */
import type { Db } from '../db/db.js';
import { dbDate } from '../db/sql.js';

export type RunOutcome = 'created' | 'skipped' | 'failed';

export interface ScheduleRun {
  schedule: string;
  dueAt: Date;
  outcome: RunOutcome;
  requestId: string | null;
  error: string | null;
}

export class ScheduleStore {
  constructor(private readonly db: Db) {}

  /** Claim a run; true when this RM inserted it (and so fires it). */
  async claim(run: Omit<ScheduleRun, 'requestId'>, holder: string, now = new Date()): Promise<boolean> {
    const n = await this.db.run((m) =>
      this.db.exec(
        m,
        this.db.insertSql(
          'schedule_runs',
          ['schedule', 'due_at', 'outcome', 'error', 'rm_host', 'fired_at'],
          1,
          {
            ignoreDuplicates: true,
          },
        ),
        [run.schedule, run.dueAt, run.outcome, run.error, holder, now],
      ),
    );
    return n > 0;
  }

  async settle(
    schedule: string,
    dueAt: Date,
    patch: { outcome: RunOutcome; requestId?: string; error?: string },
  ) {
    await this.db.run((m) =>
      this.db.exec(
        m,
        'UPDATE `schedule_runs` SET `outcome` = ?, `request_id` = ?, `error` = ? WHERE `schedule` = ? AND `due_at` = ?',
        [patch.outcome, patch.requestId ?? null, patch.error ?? null, schedule, dueAt],
      ),
    );
  }

  /** The latest run of each schedule (any outcome), by schedule name. */
  async latest(): Promise<Map<string, ScheduleRun>> {
    const rows = await this.db.run((m) =>
      this.db.select<Record<string, unknown>>(
        m,
        'SELECT r.`schedule`, r.`due_at`, r.`outcome`, r.`request_id`, r.`error` FROM `schedule_runs` r JOIN (SELECT `schedule`, MAX(`due_at`) AS due FROM `schedule_runs` GROUP BY `schedule`) x ON x.`schedule` = r.`schedule` AND x.due = r.`due_at`',
        [],
      ),
    );
    return new Map(rows.map((r) => [String(r.schedule), toRun(r)]));
  }

  /** Runs of one schedule, oldest first (tests, tools). */
  async runs(schedule: string): Promise<ScheduleRun[]> {
    const rows = await this.db.run((m) =>
      this.db.select<Record<string, unknown>>(
        m,
        'SELECT `schedule`, `due_at`, `outcome`, `request_id`, `error` FROM `schedule_runs` WHERE `schedule` = ? ORDER BY `due_at`',
        [schedule],
      ),
    );
    return rows.map(toRun);
  }
}

function toRun(r: Record<string, unknown>): ScheduleRun {
  return {
    schedule: String(r.schedule),
    dueAt: dbDate(r.due_at) as Date,
    outcome: String(r.outcome) as RunOutcome,
    requestId: r.request_id === null || r.request_id === undefined ? null : String(r.request_id),
    error: r.error === null || r.error === undefined ? null : String(r.error),
  };
}
