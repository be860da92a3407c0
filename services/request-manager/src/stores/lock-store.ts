/**
 * `request_locks` (who holds each (lock name, value)) and `request_lock_waits`
 * (which locks a PENDING request waits for). The primary key of
 * `request_locks` is what makes a lock exclusive across RMs: a second holder's
 * INSERT fails (at create) or is ignored (when granting a waiter).
 */
import type { EntityManager } from 'typeorm';
import type { Db } from '../db/db.js';
import { dbDate, type Statement } from '../db/sql.js';

/** One lock: the arg name and one value of it. */
export interface LockKey {
  name: string;
  value: string;
}

export interface LockHolder extends LockKey {
  requestId: string;
}

const PENDING = 1;
const FINAL = [3, 4, 6];

/** `(a = ? AND b = ?) OR …` over keys, with its values. */
function keysWhere(keys: readonly LockKey[], alias = ''): [string, unknown[]] {
  const p = alias ? `${alias}.` : '';
  return [
    keys.map(() => `(${p}\`lock_name\` = ? AND ${p}\`lock_value\` = ?)`).join(' OR '),
    keys.flatMap((k) => [k.name, k.value]),
  ];
}

export class LockStore {
  constructor(private readonly db: Db) {}

  /** INSERT of `requestId` as holder of `keys` (fails on a held key): part of the create transaction. */
  holdStatement(keys: readonly LockKey[], requestId: string, at: Date, ignoreDuplicates = false): Statement {
    return {
      sql: this.db.insertSql(
        'request_locks',
        ['lock_name', 'lock_value', 'request_id', 'acquired_at'],
        keys.length,
        { ignoreDuplicates },
      ),
      params: keys.flatMap((k) => [k.name, k.value, requestId, at]),
    };
  }

  /** INSERT of `requestId` as waiter for `keys`: part of the create transaction of a waiting request. */
  waitStatement(keys: readonly LockKey[], requestId: string, at: Date): Statement {
    return {
      sql: this.db.insertSql(
        'request_lock_waits',
        ['request_id', 'lock_name', 'lock_value', 'created_at'],
        keys.length,
      ),
      params: keys.flatMap((k) => [requestId, k.name, k.value, at]),
    };
  }

  async holders(keys: readonly LockKey[]): Promise<LockHolder[]> {
    if (keys.length === 0) return [];
    const [where, params] = keysWhere(keys);
    const rows = await this.db.run((m) =>
      this.db.select<{ lock_name: string; lock_value: string; request_id: string }>(
        m,
        `SELECT \`lock_name\`, \`lock_value\`, \`request_id\` FROM \`request_locks\` WHERE ${where}`,
        params,
      ),
    );
    return rows.map((r) => ({
      name: String(r.lock_name),
      value: String(r.lock_value),
      requestId: String(r.request_id),
    }));
  }

  /** The locks `requestId` holds. */
  async heldBy(requestId: string): Promise<LockKey[]> {
    return this.keysOf('request_locks', requestId);
  }

  /** The locks `requestId` waits for. */
  async waitsOf(requestId: string): Promise<LockKey[]> {
    return this.keysOf('request_lock_waits', requestId);
  }

  private async keysOf(table: string, requestId: string): Promise<LockKey[]> {
    const rows = await this.db.run((m) =>
      this.db.select<{ lock_name: string; lock_value: string }>(
        m,
        `SELECT \`lock_name\`, \`lock_value\` FROM \`${table}\` WHERE \`request_id\` = ? ORDER BY \`lock_name\`, \`lock_value\``,
        [requestId],
      ),
    );
    return rows.map((r) => ({ name: String(r.lock_name), value: String(r.lock_value) }));
  }

  /** Drop every lock and wait of a request (it reached a final state); returns the locks it held. */
  async release(requestId: string): Promise<LockKey[]> {
    return this.db.tx(async (m) => {
      const held = await this.db.select<{ lock_name: string; lock_value: string }>(
        m,
        'SELECT `lock_name`, `lock_value` FROM `request_locks` WHERE `request_id` = ?',
        [requestId],
      );
      await this.db.exec(m, 'DELETE FROM `request_locks` WHERE `request_id` = ?', [requestId]);
      await this.db.exec(m, 'DELETE FROM `request_lock_waits` WHERE `request_id` = ?', [requestId]);
      return held.map((r) => ({ name: String(r.lock_name), value: String(r.lock_value) }));
    });
  }

  /** Requests waiting for any of `keys` (all waiters when `keys` is undefined), oldest first. */
  async waiters(keys?: readonly LockKey[]): Promise<string[]> {
    if (keys?.length === 0) return [];
    const [where, params] = keys ? keysWhere(keys) : ['1 = 1', []];
    const rows = await this.db.run((m) =>
      this.db.select<{ request_id: string; first: unknown }>(
        m,
        `SELECT \`request_id\`, MIN(\`created_at\`) AS first FROM \`request_lock_waits\` WHERE ${where} GROUP BY \`request_id\` ORDER BY first, \`request_id\``,
        params,
      ),
    );
    return rows.map((r) => String(r.request_id));
  }

  /**
   * Give `requestId` every lock it waits for, all or none, in one
   * transaction: an INSERT IGNORE per lock; if one is held by another
   * request, exactly the rows inserted here are deleted again. True when it
   * now holds them all (and no longer waits).
   */
  async grant(requestId: string, at = new Date()): Promise<boolean> {
    return this.db.tx(async (m) => {
      const want = await this.db.select<{ lock_name: string; lock_value: string }>(
        m,
        'SELECT `lock_name`, `lock_value` FROM `request_lock_waits` WHERE `request_id` = ?',
        [requestId],
      );
      if (want.length === 0) return false;
      const inserted: LockKey[] = [];
      let all = true;
      for (const r of want) {
        const key = { name: String(r.lock_name), value: String(r.lock_value) };
        const st = this.holdStatement([key], requestId, at, true);
        if ((await this.db.exec(m, st.sql, st.params)) > 0) inserted.push(key);
        else if (!(await this.isHolder(m, key, requestId))) {
          all = false;
          break;
        }
      }
      if (!all) {
        for (const k of inserted)
          await this.db.exec(
            m,
            'DELETE FROM `request_locks` WHERE `lock_name` = ? AND `lock_value` = ? AND `request_id` = ?',
            [k.name, k.value, requestId],
          );
        return false;
      }
      await this.db.exec(m, 'DELETE FROM `request_lock_waits` WHERE `request_id` = ?', [requestId]);
      return true;
    });
  }

  private async isHolder(m: EntityManager, key: LockKey, requestId: string): Promise<boolean> {
    const rows = await this.db.select<{ request_id: string }>(
      m,
      'SELECT `request_id` FROM `request_locks` WHERE `lock_name` = ? AND `lock_value` = ?',
      [key.name, key.value],
    );
    return rows.some((r) => String(r.request_id) === requestId);
  }

  /** Requests that hold or wait for locks but are final: their locks leaked (a crash between the final write and the release). */
  async finalHoldersAndWaiters(): Promise<string[]> {
    const q = (table: string) =>
      `SELECT DISTINCT l.\`request_id\` AS request_id FROM \`${table}\` l JOIN \`requests\` r ON r.\`request_id\` = l.\`request_id\` WHERE r.\`state\` IN (${FINAL.join(',')})`;
    const rows = await this.db.run(async (m) => [
      ...(await this.db.select<{ request_id: string }>(m, q('request_locks'), [])),
      ...(await this.db.select<{ request_id: string }>(m, q('request_lock_waits'), [])),
    ]);
    return [...new Set(rows.map((r) => String(r.request_id)))];
  }

  /** PENDING requests that hold their locks and wait for none: granted, not started (the RM that granted died), granted before `before`. */
  async grantedPending(before: Date): Promise<string[]> {
    const rows = await this.db.run((m) =>
      this.db.select<{ request_id: string; acquired_at: unknown }>(
        m,
        `SELECT DISTINCT l.\`request_id\` AS request_id, l.\`acquired_at\` AS acquired_at FROM \`request_locks\` l JOIN \`requests\` r ON r.\`request_id\` = l.\`request_id\` WHERE r.\`state\` = ${PENDING} AND l.\`acquired_at\` < ? AND NOT EXISTS (SELECT 1 FROM \`request_lock_waits\` w WHERE w.\`request_id\` = l.\`request_id\`)`,
        [before],
      ),
    );
    return [...new Set(rows.filter((r) => dbDate(r.acquired_at)).map((r) => String(r.request_id)))];
  }
}
