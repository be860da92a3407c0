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

/** Strings at least this long are escaped by `mysqlParams`, not by mysql2. */
const BIG_TEXT_CHARS = 1024;
/** What a '…' literal needs escaped (a `"` needs nothing there), as mysql2 escapes it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and Ctrl-Z are two of the characters MySQL escapes
const MYSQL_SPECIAL = /[\0\x1a'\\]/g;
const MYSQL_ESCAPED: Record<string, string> = { '\0': '\\0', '\x1a': '\\Z', "'": "\\'", '\\': '\\\\' };
const mysqlEscaped = (c: string): string => MYSQL_ESCAPED[c] as string;

/**
 * Values for mysql2's text protocol, long strings escaped here. mysql2 escapes
 * a string by appending two pieces per special character, `"` included: the
 * megabytes of a chain's JSON (a `"` every few characters) became millions of
 * string pieces, and storing a 140,000-job chain was mostly garbage
 * collection. Here one native replace escapes the few characters a quoted
 * literal needs, and mysql2 takes the literal as is (`toSqlString`).
 */
export function mysqlParams(params: readonly unknown[]): unknown[] {
  return params.map((v) =>
    typeof v === 'string' && v.length >= BIG_TEXT_CHARS
      ? { toSqlString: () => `'${v.replace(MYSQL_SPECIAL, mysqlEscaped)}'` }
      : v,
  );
}

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

/** Largest multi-statement packet `groupStatements` builds by default (well under max_allowed_packet). */
export const STATEMENT_GROUP_BYTES = 4 * 1024 * 1024;

/**
 * An upper bound of the bytes a value takes in a statement as the driver
 * sends it: strings are UTF-8 (at most 3 bytes per UTF-16 unit) with quotes
 * and escapes (an escaped character is ASCII: 2 bytes), anything else a
 * short literal.
 */
export function valueBytes(v: unknown): number {
  return typeof v === 'string' ? v.length * 3 + 2 : 24;
}

/** `statementBytes`-bounded estimate of a statement: its text plus its values. */
export function statementBytes(st: Statement): number {
  let size = st.sql.length;
  for (const v of st.params) size += valueBytes(v);
  return size;
}

/**
 * `statements` in order, in groups whose text and values stay under
 * `maxBytes`, each group one multi-statement text with its values ready for
 * the driver. A statement bigger than `maxBytes` is a group of its own.
 */
export function* groupStatements(
  statements: readonly Statement[],
  maxBytes = STATEMENT_GROUP_BYTES,
): Generator<Statement & { count: number }> {
  let group: Statement[] = [];
  let bytes = 0;
  for (const st of statements) {
    const size = statementBytes(st);
    if (group.length > 0 && bytes + size > maxBytes) {
      yield { ...joinStatements(group), count: group.length };
      group = [];
      bytes = 0;
    }
    group.push(st);
    bytes += size;
  }
  if (group.length > 0) yield { ...joinStatements(group), count: group.length };
}

/**
 * Rows (value lists) in consecutive batches whose values stay under
 * `maxBytes` and that hold at most `maxRows` rows: one multi-row INSERT each.
 * A row bigger than `maxBytes` is a batch of its own.
 */
export function* rowBatches(
  rows: readonly unknown[][],
  maxBytes: number,
  maxRows = Number.POSITIVE_INFINITY,
  rowOverhead = 8,
): Generator<unknown[][]> {
  let batch: unknown[][] = [];
  let bytes = 0;
  for (const row of rows) {
    let size = rowOverhead;
    for (const v of row) size += valueBytes(v);
    if (batch.length > 0 && (batch.length >= maxRows || bytes + size > maxBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/**
 * `text` cut into pieces of at most `maxChars` UTF-16 units, never between
 * the two halves of a surrogate pair (a lone half would not survive UTF-8).
 */
export function splitText(text: string, maxChars: number): string[] {
  const size = Math.max(2, Math.floor(maxChars));
  const out: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
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
