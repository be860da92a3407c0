/**
 * `notifications`: one row per (request, webhook URL): pending until it is
 * delivered or given up (failed), with its attempts and last error, so a
 * delivery survives a restart (see notify.ts) and GET shows how it went.
 */
import type { Db } from '../db/db.js';
import { dbDate } from '../db/sql.js';

export type NotificationStatus = 'pending' | 'delivered' | 'failed';

export interface NotificationRow {
  requestId: string;
  url: string;
  status: NotificationStatus;
  attempts: number;
  httpStatus: number | null;
  lastError: string | null;
  updatedAt: Date;
}

const COLUMNS = 'request_id, url, status, attempts, http_status, last_error, updated_at';

type Raw = Record<
  'request_id' | 'url' | 'status' | 'attempts' | 'http_status' | 'last_error' | 'updated_at',
  unknown
>;

function toRow(r: Raw): NotificationRow {
  return {
    requestId: String(r.request_id),
    url: String(r.url),
    status: String(r.status) as NotificationStatus,
    attempts: Number(r.attempts),
    httpStatus: r.http_status === null || r.http_status === undefined ? null : Number(r.http_status),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
    updatedAt: dbDate(r.updated_at) as Date,
  };
}

export class NotificationStore {
  constructor(private readonly db: Db) {}

  /** Pending rows for `urls` (existing ones are kept); returns the URLs newly added (this RM delivers them). */
  async add(requestId: string, urls: readonly string[], holder: string, now = new Date()): Promise<string[]> {
    const added: string[] = [];
    for (const url of urls) {
      const n = await this.db.run((m) =>
        this.db.exec(
          m,
          this.db.insertSql(
            'notifications',
            ['request_id', 'url', 'status', 'attempts', 'rm_host', 'updated_at'],
            1,
            {
              ignoreDuplicates: true,
            },
          ),
          [requestId, url, 'pending', 0, holder, now],
        ),
      );
      if (n > 0) added.push(url);
    }
    return added;
  }

  /** Record an attempt's outcome. */
  async update(
    requestId: string,
    url: string,
    patch: {
      status: NotificationStatus;
      attempts: number;
      httpStatus?: number | null;
      lastError?: string | null;
    },
  ): Promise<void> {
    await this.db.run((m) =>
      this.db.exec(
        m,
        'UPDATE `notifications` SET `status` = ?, `attempts` = ?, `http_status` = ?, `last_error` = ?, `updated_at` = ? WHERE `request_id` = ? AND `url` = ?',
        [
          patch.status,
          patch.attempts,
          patch.httpStatus ?? null,
          patch.lastError ?? null,
          new Date(),
          requestId,
          url,
        ],
      ),
    );
  }

  async of(requestId: string): Promise<NotificationRow[]> {
    const rows = await this.db.run((m) =>
      this.db.select<Raw>(
        m,
        `SELECT ${COLUMNS} FROM \`notifications\` WHERE \`request_id\` = ? ORDER BY \`url\``,
        [requestId],
      ),
    );
    return rows.map(toRow);
  }

  /**
   * Pending rows untouched since `before` (the RM delivering them died):
   * each is claimed by one RM with a conditional UPDATE on its `updated_at`.
   */
  async claimStale(before: Date, holder: string, limit = 50): Promise<NotificationRow[]> {
    const rows = await this.db.run((m) =>
      this.db.select<Raw>(
        m,
        `SELECT ${COLUMNS} FROM \`notifications\` WHERE \`status\` = 'pending' AND \`updated_at\` < ? ORDER BY \`updated_at\` LIMIT ${Math.trunc(limit)}`,
        [before],
      ),
    );
    const claimed: NotificationRow[] = [];
    for (const row of rows.map(toRow)) {
      const n = await this.db.run((m) =>
        this.db.exec(
          m,
          "UPDATE `notifications` SET `rm_host` = ?, `updated_at` = ? WHERE `request_id` = ? AND `url` = ? AND `status` = 'pending' AND `updated_at` = ?",
          [holder, new Date(), row.requestId, row.url, row.updatedAt],
        ),
      );
      if (n > 0) claimed.push(row);
    }
    return claimed;
  }
}
