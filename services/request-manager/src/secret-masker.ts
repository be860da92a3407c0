/**
 * Masks secret values in job-log entries as they arrive from Job Runners, so
 * what is stored (and later answered) never holds them. The secret values of
 * a request are known from its create (on this RM) or read once from its
 * archive (`secret_args` and the RequestArg list) and kept in a bounded map;
 * requests without secrets are remembered too, so a batch costs at most one
 * indexed read for the requests this RM has not seen yet.
 */
import type { JobLog, RequestArg } from '@spincycle/protocol';
import type { Db } from './db/db.js';
import { maskEntry, secretValues } from './secrets.js';
import { parseSecretArgs } from './stores/request-rows.js';
import { parseStoredJson } from './stores/stored-json.js';

/** Requests remembered at most; the oldest are forgotten first (and read again if they report). */
const MAX_KNOWN = 20_000;
const NONE: readonly string[] = Object.freeze([]);

export class SecretMasker {
  private readonly known = new Map<string, readonly string[]>();

  constructor(private readonly db: Db) {}

  /** Remember a request's secret values (at create: no read needed later). */
  remember(requestId: string, values: readonly string[]): void {
    if (this.known.size >= MAX_KNOWN) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.set(requestId, values.length > 0 ? values : NONE);
  }

  /** Masks stdout, stderr and error of the entries in place. */
  async mask(entries: readonly JobLog[]): Promise<void> {
    if (entries.length === 0) return;
    const unknown = new Set<string>();
    for (const e of entries) if (!this.known.has(e.requestId)) unknown.add(e.requestId);
    if (unknown.size > 0) await this.load([...unknown]);
    for (const e of entries) {
      const values = this.known.get(e.requestId) ?? NONE;
      if (values.length > 0) maskEntry(e, values);
    }
  }

  private async load(ids: string[]): Promise<void> {
    const found = new Map<string, readonly string[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.db.run((m) =>
        this.db.select<{ request_id: unknown; args: unknown; secret_args: unknown }>(
          m,
          `SELECT \`request_id\`, \`args\`, \`secret_args\` FROM \`request_archives\` WHERE \`secret_args\` IS NOT NULL AND \`request_id\` IN (${chunk.map(() => '?').join(',')})`,
          chunk,
        ),
      );
      for (const r of rows) {
        const args = typeof r.args === 'string' ? parseStoredJson<RequestArg[]>(r.args) : [];
        found.set(String(r.request_id), secretValues(args, parseSecretArgs(r.secret_args)));
      }
    }
    for (const id of ids) this.remember(id, found.get(id) ?? NONE);
  }
}
