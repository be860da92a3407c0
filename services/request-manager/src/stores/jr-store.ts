/**
 * `job_runners`: the last heartbeat of every Job Runner, shared by all RMs.
 * One row per advertised JR URL; a heartbeat replaces the row's contents.
 */
import type { HeldChain } from '@spincycle/protocol';
import type { EntityManager } from 'typeorm';
import type { Db } from '../db/db.js';
import { dbDate } from '../db/sql.js';

export interface JobRunnerRow {
  jr_url: string;
  instance: string;
  started_at: Date | null;
  last_seen: Date;
  chains: number;
  draining: boolean;
  /** Chains held at the last heartbeat, with their running jobs. */
  held: HeldChain[];
  rm_host: string | null;
}

const COLUMNS = [
  'jr_url',
  'instance',
  'started_at',
  'last_seen',
  'chains',
  'draining',
  'held',
  'rm_host',
] as const;

function parseHeld(text: unknown): HeldChain[] {
  if (typeof text !== 'string' || text === '') return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as HeldChain[]) : [];
  } catch {
    return [];
  }
}

function toRow(r: Record<string, unknown>, withHeld: boolean): JobRunnerRow {
  return {
    jr_url: String(r.jr_url),
    instance: String(r.instance ?? ''),
    started_at: dbDate(r.started_at),
    last_seen: dbDate(r.last_seen) as Date,
    chains: Number(r.chains ?? 0),
    draining: Number(r.draining ?? 0) !== 0,
    held: withHeld ? parseHeld(r.held) : [],
    rm_host: r.rm_host === null || r.rm_host === undefined ? null : String(r.rm_host),
  };
}

export class JrStore {
  constructor(private readonly db: Db) {}

  /** Store a heartbeat (insert or replace the JR's row). */
  async put(row: Omit<JobRunnerRow, 'held'> & { heldJson: string }): Promise<void> {
    const set = [
      row.instance,
      row.started_at,
      row.last_seen,
      row.chains,
      row.draining,
      row.heldJson,
      row.rm_host,
    ];
    const update = `UPDATE \`job_runners\` SET \`instance\` = ?, \`started_at\` = ?, \`last_seen\` = ?, \`chains\` = ?, \`draining\` = ?, \`held\` = ?, \`rm_host\` = ? WHERE \`jr_url\` = ?`;
    // Portable upsert: update, else insert; a concurrent insert of the same JR makes ours a no-op, then update again.
    await this.db.run(async (m) => {
      if ((await this.db.exec(m, update, [...set, row.jr_url])) > 0) return;
      const inserted = await this.db.exec(
        m,
        this.db.insertSql('job_runners', COLUMNS, 1, { ignoreDuplicates: true }),
        [row.jr_url, ...set],
      );
      if (inserted === 0) await this.db.exec(m, update, [...set, row.jr_url]);
    });
  }

  /**
   * Mark a JR as shutting down (in the caller's transaction): it handed a chain back, which a
   * JR only does when it stops. Its heartbeats say so too, but one may not have arrived.
   */
  async markDrainingIn(m: EntityManager, jrUrl: string): Promise<void> {
    await this.db.exec(m, 'UPDATE `job_runners` SET `draining` = 1 WHERE `jr_url` = ?', [jrUrl]);
  }

  /** Every JR row; `held` only when asked (it can be large). */
  async list(withHeld = false): Promise<JobRunnerRow[]> {
    const cols = (withHeld ? COLUMNS : COLUMNS.filter((c) => c !== 'held')).map((c) => `\`${c}\``).join(', ');
    const rows = await this.db.run((m) =>
      this.db.select<Record<string, unknown>>(
        m,
        `SELECT ${cols} FROM \`job_runners\` ORDER BY \`jr_url\``,
        [],
      ),
    );
    return rows.map((r) => toRow(r, withHeld));
  }

  /** One JR's row; `held` only when asked (default yes). */
  async get(jrUrl: string, withHeld = true): Promise<JobRunnerRow | undefined> {
    const cols = (withHeld ? COLUMNS : COLUMNS.filter((c) => c !== 'held')).map((c) => `\`${c}\``).join(', ');
    const rows = await this.db.run((m) =>
      this.db.select<Record<string, unknown>>(m, `SELECT ${cols} FROM \`job_runners\` WHERE \`jr_url\` = ?`, [
        jrUrl,
      ]),
    );
    return rows[0] ? toRow(rows[0], withHeld) : undefined;
  }

  /** Which of `urls` have a row at all (i.e. are real JRs, not a load balancer's URL). */
  async known(urls: string[]): Promise<Set<string>> {
    if (urls.length === 0) return new Set();
    const rows = await this.db.run((m) =>
      this.db.select<{ jr_url: string }>(
        m,
        `SELECT \`jr_url\` FROM \`job_runners\` WHERE \`jr_url\` IN (${urls.map(() => '?').join(',')})`,
        urls,
      ),
    );
    return new Set(rows.map((r) => String(r.jr_url)));
  }

  /** Forget JRs not heard from since `before` (housekeeping; they hold no RUNNING request any more). */
  async prune(before: Date): Promise<number> {
    return this.db.run((m) =>
      this.db.exec(
        m,
        'DELETE FROM `job_runners` WHERE `last_seen` < ? AND NOT EXISTS (SELECT 1 FROM `requests` r WHERE r.`state` = 2 AND r.`jr_url` = `job_runners`.`jr_url`)',
        [before],
      ),
    );
  }
}
