/**
 * SQL text that is not a store's: INSERT texts built for any table, values
 * and dates as both drivers write and read them, multi-statement batches,
 * and the few statements the database wrapper and the migration runner send.
 * Identifiers are backquoted, which both MySQL and SQLite accept; values
 * always go through placeholders, never into the text.
 */
/** The SQL dialect: MySQL/MariaDB or SQLite. */
export type DbKind = 'mysql' | 'sqlite';

/** One hand-written statement and its values. */
export interface Statement {
  sql: string;
  params: unknown[];
}

export const PING_SQL = 'SELECT 1';
export const ROLLBACK_SQL = 'ROLLBACK';
/** Several RMs booting at once migrate one after the other (MySQL). */
export const MIGRATION_LOCK_SQL = "SELECT GET_LOCK('spincycle_migrate', 60) AS got";
export const MIGRATION_UNLOCK_SQL = "SELECT RELEASE_LOCK('spincycle_migrate')";

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * A value for a hand-written statement: Dates become UTC `YYYY-MM-DD
 * HH:MM:SS.mmm` (what TypeORM writes for datetime columns on both drivers),
 * booleans 0/1.
 */
export function sqlValue(v: unknown): unknown {
  if (v instanceof Date) {
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())} ${pad(v.getUTCHours())}:${pad(v.getUTCMinutes())}:${pad(v.getUTCSeconds())}.${pad(v.getUTCMilliseconds(), 3)}`;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** A datetime column as read by either driver (mysql2: Date; better-sqlite3: `YYYY-MM-DD HH:MM:SS.mmm` UTC text). */
export function dbDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v;
  const text = String(v);
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

/** Generated INSERT texts, by dialect, table, columns, row count and verb. */
const insertTexts = new Map<string, string>();

/**
 * `INSERT [IGNORE] INTO table (cols) VALUES (?,…),(…)` for `rows` rows; with
 * `ignoreDuplicates` rows whose key exists are skipped (INSERT IGNORE /
 * INSERT OR IGNORE). Hand-built for hot paths: TypeORM spends ~20 µs per row
 * building a multi-row INSERT, more than the database needs to store it.
 */
export function insertSql(
  kind: DbKind,
  table: string,
  columns: readonly string[],
  rows: number,
  opts: { ignoreDuplicates?: boolean } = {},
): string {
  const key = `${kind}\u0000${table}\u0000${columns.join(',')}\u0000${rows}\u0000${opts.ignoreDuplicates ? 1 : 0}`;
  let sql = insertTexts.get(key);
  if (sql === undefined) {
    const verb = opts.ignoreDuplicates ? (kind === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE') : 'INSERT';
    const tuple = `(${columns.map(() => '?').join(',')})`;
    sql = `${verb} INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(',')}) VALUES ${Array.from({ length: rows }, () => tuple).join(',')}`;
    // Bounded: row counts repeat (batches, args per request type).
    if (insertTexts.size < 2000) insertTexts.set(key, sql);
  }
  return sql;
}

/** Largest multi-statement packet `groupStatements` builds (well under max_allowed_packet). */
const STATEMENT_GROUP_BYTES = 4 * 1024 * 1024;

/**
 * `statements` in order, in groups whose text and values stay under ~4 MiB,
 * each group one multi-statement text with its values ready for the driver.
 */
export function* groupStatements(statements: readonly Statement[]): Generator<Statement & { count: number }> {
  let group: Statement[] = [];
  let bytes = 0;
  for (const st of statements) {
    let size = st.sql.length;
    for (const v of st.params) size += typeof v === 'string' ? v.length * 2 + 3 : 24;
    if (group.length > 0 && bytes + size > STATEMENT_GROUP_BYTES) {
      yield { ...joinStatements(group), count: group.length };
      group = [];
      bytes = 0;
    }
    group.push(st);
    bytes += size;
  }
  if (group.length > 0) yield { ...joinStatements(group), count: group.length };
}

function joinStatements(group: readonly Statement[]): Statement {
  const params: unknown[] = [];
  for (const st of group) for (const v of st.params) params.push(sqlValue(v));
  return { sql: group.map((st) => st.sql).join(';\n'), params };
}

/** `statements` as ONE multi-statement transaction text (START … COMMIT), values ready for the driver. */
export function transactionSql(statements: readonly Statement[]): Statement {
  const { sql, params } = joinStatements(statements);
  return { sql: `START TRANSACTION;\n${sql};\nCOMMIT`, params };
}
