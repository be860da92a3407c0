/**
 * `leases`: named locks that expire, so a background duty (the lost-JR
 * sweeper) runs on exactly one RM at a time however many RMs share the
 * database, and moves to another RM when its holder dies. Acquire and renew
 * are one conditional UPDATE (holder is me, or the lease expired), the same
 * on MySQL and SQLite; the first RM ever inserts the row.
 */
import type { Db } from '../db/db.js';
import { dbDate } from '../db/sql.js';

export class LeaseStore {
  constructor(private readonly db: Db) {}

  /**
   * Take or renew lease `name` for `holder` until `now + ttlMs`. Returns
   * 'renewed' when `holder` already had it, 'acquired' when it was free or
   * expired, undefined when another holder has it.
   */
  async acquire(
    name: string,
    holder: string,
    ttlMs: number,
    now = new Date(),
  ): Promise<'acquired' | 'renewed' | undefined> {
    const expires = new Date(now.getTime() + ttlMs);
    return this.db.run(async (m) => {
      if (
        (await this.db.exec(
          m,
          'UPDATE `leases` SET `expires_at` = ? WHERE `name` = ? AND `holder` = ? AND `expires_at` >= ?',
          [expires, name, holder, now],
        )) > 0
      )
        return 'renewed';
      if (
        (await this.db.exec(
          m,
          'UPDATE `leases` SET `holder` = ?, `expires_at` = ?, `acquired_at` = ? WHERE `name` = ? AND (`expires_at` < ? OR `holder` = ?)',
          [holder, expires, now, name, now, holder],
        )) > 0
      )
        return 'acquired';
      const inserted = await this.db.exec(
        m,
        this.db.insertSql('leases', ['name', 'holder', 'expires_at', 'acquired_at'], 1, {
          ignoreDuplicates: true,
        }),
        [name, holder, expires, now],
      );
      return inserted > 0 ? 'acquired' : undefined;
    });
  }

  /** Give the lease up (only if `holder` has it), so another RM takes over at once. */
  async release(name: string, holder: string): Promise<void> {
    await this.db.run((m) =>
      this.db.exec(m, 'UPDATE `leases` SET `expires_at` = ? WHERE `name` = ? AND `holder` = ?', [
        new Date(0),
        name,
        holder,
      ]),
    );
  }

  async holder(name: string): Promise<{ holder: string; expiresAt: Date } | undefined> {
    const rows = await this.db.run((m) =>
      this.db.select<{ holder: string; expires_at: unknown }>(
        m,
        'SELECT `holder`, `expires_at` FROM `leases` WHERE `name` = ?',
        [name],
      ),
    );
    const r = rows[0];
    return r ? { holder: String(r.holder), expiresAt: dbDate(r.expires_at) as Date } : undefined;
  }
}
