/**
 * `idempotency_keys`: one row per (user, key). The INSERT is the lock (the
 * primary key makes the first one win on any RM); every later change is a
 * conditional statement, never read-then-write.
 */
import type { Db } from '../db/db.js';
import { dbDate } from '../db/sql.js';

export const IDEMPOTENCY_IN_PROGRESS = 0;
const IDEMPOTENCY_DONE = 1;

export interface IdempotencyRow {
  user: string;
  key: string;
  bodyHash: string;
  requestId: string | null;
  state: number;
  createdAt: Date;
}

const KEY = '`user` = ? AND `idem_key` = ?';

export class IdempotencyStore {
  constructor(private readonly db: Db) {}

  /** Insert the key as in progress; false when a row for (user, key) exists. */
  async claim(user: string, key: string, bodyHash: string, now: Date): Promise<boolean> {
    const sql = this.db.insertSql(
      'idempotency_keys',
      ['user', 'idem_key', 'body_hash', 'state', 'created_at'],
      1,
      { ignoreDuplicates: true },
    );
    const n = await this.db.run((m) =>
      this.db.exec(m, sql, [user, key, bodyHash, IDEMPOTENCY_IN_PROGRESS, now]),
    );
    return n > 0;
  }

  async get(user: string, key: string): Promise<IdempotencyRow | undefined> {
    const rows = await this.db.run((m) =>
      this.db.select<{ body_hash: string; request_id: string | null; state: number; created_at: unknown }>(
        m,
        `SELECT \`body_hash\`, \`request_id\`, \`state\`, \`created_at\` FROM \`idempotency_keys\` WHERE ${KEY}`,
        [user, key],
      ),
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      user,
      key,
      bodyHash: String(r.body_hash),
      requestId: r.request_id === null ? null : String(r.request_id),
      state: Number(r.state),
      createdAt: dbDate(r.created_at) as Date,
    };
  }

  /** The create stored `requestId`: later repeats are answered with it. */
  async markDone(user: string, key: string, requestId: string): Promise<void> {
    await this.db.run((m) =>
      this.db.exec(m, `UPDATE \`idempotency_keys\` SET \`state\` = ?, \`request_id\` = ? WHERE ${KEY}`, [
        IDEMPOTENCY_DONE,
        requestId,
        user,
        key,
      ]),
    );
  }

  /** Forget the key if it is still in progress (its create failed: the client may resend). */
  async release(user: string, key: string): Promise<void> {
    await this.db.run((m) =>
      this.db.exec(m, `DELETE FROM \`idempotency_keys\` WHERE ${KEY} AND \`state\` = ?`, [
        user,
        key,
        IDEMPOTENCY_IN_PROGRESS,
      ]),
    );
  }

  /** Delete this row if it was created no later than `createdAt` (an expired or abandoned key seen by the caller). */
  async dropIfOlder(user: string, key: string, createdAt: Date): Promise<void> {
    await this.db.run((m) =>
      this.db.exec(m, `DELETE FROM \`idempotency_keys\` WHERE ${KEY} AND \`created_at\` <= ?`, [
        user,
        key,
        createdAt,
      ]),
    );
  }

  /** Delete up to `limit` keys created before `before`; returns how many went. */
  async purge(before: Date, limit: number): Promise<number> {
    const sql =
      this.db.kind === 'mysql'
        ? 'DELETE FROM `idempotency_keys` WHERE `created_at` < ? ORDER BY `created_at` LIMIT ?'
        : 'DELETE FROM `idempotency_keys` WHERE rowid IN (SELECT rowid FROM `idempotency_keys` WHERE `created_at` < ? ORDER BY `created_at` LIMIT ?)';
    return this.db.run((m) => this.db.exec(m, sql, [before, limit]));
  }
}
