/**
 * The DataSource for either driver, plus `Db`: the small wrapper every store
 * goes through. It serialises work on SQLite (TypeORM's better-sqlite3 driver
 * has ONE connection, so two interleaved async transactions would nest into
 * each other) and retries transient MySQL failures (deadlocks, lost
 * connections) a bounded number of times.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@spincycle/service-kit';
import {
  DataSource,
  type DataSourceOptions,
  type EntityManager,
  type EntityTarget,
  type ObjectLiteral,
} from 'typeorm';
import { parseMysqlDsn, type RmConfig, sqliteFile } from '../config.js';
import { ENTITIES } from './entities.js';
import { InitialSchema1764400000000 } from './migrations/1764400000000-initial-schema.js';
import { JobRunners1764500000000 } from './migrations/1764500000000-job-runners.js';

export type DbKind = 'mysql' | 'sqlite';

export const MIGRATIONS = [InitialSchema1764400000000, JobRunners1764500000000];
export const MIGRATIONS_TABLE = 'spincycle_migrations';

export interface DbTarget {
  /** mysql:// URL or Go DSN; undefined = SQLite. */
  mysqlDsn?: string;
  /** SQLite file path (or `:memory:`). */
  sqlitePath?: string;
  poolSize?: number;
  mysqlTls?: { certFile?: string; keyFile?: string; caFile?: string };
}

export function dbTargetFromConfig(cfg: RmConfig): DbTarget {
  return cfg['mysql.dsn']
    ? {
        mysqlDsn: cfg['mysql.dsn'],
        poolSize: cfg['mysql.pool_size'],
        mysqlTls: {
          certFile: cfg['mysql.tls.cert_file'],
          keyFile: cfg['mysql.tls.key_file'],
          caFile: cfg['mysql.tls.ca_file'],
        },
      }
    : { sqlitePath: sqliteFile(cfg) };
}

export function dataSourceOptions(target: DbTarget): DataSourceOptions {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    synchronize: false,
    logging: false,
  } as const;
  if (target.mysqlDsn) {
    const c = parseMysqlDsn(target.mysqlDsn);
    const tls = target.mysqlTls;
    const ssl =
      tls?.caFile && tls.certFile && tls.keyFile
        ? { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }
        : undefined;
    return {
      ...common,
      type: 'mysql',
      host: c.host,
      port: c.port,
      socketPath: c.socketPath,
      username: c.username,
      password: c.password,
      database: c.database,
      charset: 'utf8mb4',
      // Times are written and read as UTC whatever the server's zone is.
      timezone: 'Z',
      // BIGINT (job-log nanoseconds) come back as exact decimal strings.
      supportBigNumbers: true,
      bigNumberStrings: true,
      poolSize: target.poolSize ?? 20,
      // Lets `Db.txStatements` send a whole transaction in one round trip. Every
      // value still goes through placeholders, never into the SQL text.
      multipleStatements: true,
      ssl,
      // trace: false spares mysql2 a captured stack trace per query (errors keep their message and code).
      extra: { connectTimeout: 10_000, enableKeepAlive: true, trace: false },
    };
  }
  const path = target.sqlitePath ?? ':memory:';
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: path,
    enableWAL: path !== ':memory:',
    // Another process holding the write lock: wait rather than fail at once.
    timeout: 10_000,
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
    },
  };
}

/** A tiny FIFO async mutex. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

const TRANSIENT = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'SQLITE_BUSY',
]);

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}

export function isDuplicateKey(err: unknown): boolean {
  const code = errorCode(err);
  return (
    code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Largest multi-statement packet `execStatements` builds (well under max_allowed_packet). */
const STATEMENT_GROUP_BYTES = 4 * 1024 * 1024;

/** The part of mysql2's callback API the hot paths use (TypeORM's MySQL driver keeps such a pool). */
interface Mysql2Connection {
  query(sql: string, params: unknown[], cb: (err: Error | null, result: unknown) => void): void;
  query(sql: string, cb: (err: Error | null, result: unknown) => void): void;
  release(): void;
}
interface Mysql2Pool {
  query(sql: string, params: unknown[], cb: (err: Error | null, result: unknown) => void): void;
  getConnection(cb: (err: Error | null, conn: Mysql2Connection) => void): void;
}

export class Db {
  readonly kind: DbKind;
  private readonly mutex: Mutex | undefined;
  /** Cache of generated INSERT texts, by table, columns, row count and verb. */
  private readonly insertTexts = new Map<string, string>();

  constructor(
    readonly ds: DataSource,
    private readonly logger?: Logger,
  ) {
    this.kind = ds.options.type === 'mysql' ? 'mysql' : 'sqlite';
    this.mutex = this.kind === 'sqlite' ? new Mutex() : undefined;
  }

  /**
   * On MySQL, statements outside a transaction go straight to the driver's
   * mysql2 pool: TypeORM's query runner adds a connection wrapper, events and
   * several awaits per statement, which the hot paths (create, job logs,
   * reports) do not need. Same connections, same placeholders and escaping.
   */
  private get pool(): Mysql2Pool | undefined {
    if (this.kind !== 'mysql') return undefined;
    return (this.ds.driver as unknown as { pool?: Mysql2Pool }).pool;
  }

  /**
   * One statement on a pooled connection. (Through `getConnection` rather than
   * mysql2's `pool.query`, which in a measured run kept ~20 MB more memory
   * alive after multi-megabyte results.)
   */
  private poolQuery<T>(pool: Mysql2Pool, sql: string, params: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      pool.getConnection((err, conn) => {
        if (err) return reject(err);
        conn.query(sql, params, (qerr, result) => {
          conn.release();
          if (qerr) reject(qerr);
          else resolve(result as T);
        });
      }),
    );
  }

  /** Run `fn` outside a transaction. Retried on transient errors, so `fn` must be idempotent. */
  run<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.retrying(() => this.serial(() => fn(this.ds.manager)));
  }

  /** Run `fn` in one transaction (all or nothing). Retried on transient errors. */
  tx<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.retrying(() => this.serial(() => this.ds.transaction(fn)));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex ? this.mutex.run(fn) : fn();
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = errorCode(err);
        if (attempt >= 3 || !code || !TRANSIENT.has(code)) throw err;
        this.logger?.warn('transient database error, retrying', { code, attempt });
        await sleep(100 * attempt);
      }
    }
  }

  /**
   * Multi-row INSERT of entity rows; with `ignoreDuplicates` rows whose key
   * exists are skipped (INSERT IGNORE / INSERT OR IGNORE). Returns the number
   * of rows inserted, which TypeORM's InsertResult does not report on SQLite.
   */
  async insert(
    m: EntityManager,
    target: EntityTarget<ObjectLiteral>,
    rows: ObjectLiteral[],
    opts: { ignoreDuplicates?: boolean } = {},
  ): Promise<number> {
    if (rows.length === 0) return 0;
    let qb = m
      .createQueryBuilder()
      .insert()
      .into(target)
      .values(rows)
      .updateEntity(false)
      .callListeners(false);
    if (opts.ignoreDuplicates) qb = qb.orIgnore();
    const [sql, params] = qb.getQueryAndParameters();
    return (await this.runnerQuery(m, sql, params)) ?? rows.length;
  }

  /** A write through the manager's query runner (or a pooled one, released after); its affected-row count when the driver gives one. */
  private async runnerQuery(m: EntityManager, sql: string, params: unknown[]): Promise<number | undefined> {
    const qr = m.queryRunner ?? this.ds.createQueryRunner();
    try {
      return ((await qr.query(sql, params, true)) as { affected?: number }).affected;
    } finally {
      if (!m.queryRunner && this.kind === 'mysql') await qr.release();
    }
  }

  /**
   * The same as `insert` in hand-built SQL, for hot paths: TypeORM spends
   * ~20 µs per row building a multi-row INSERT, more than the database needs
   * to store it. Identifiers are backquoted, which both MySQL and SQLite accept.
   */
  /** `INSERT [IGNORE] INTO table (cols) VALUES (?,…),(…)` for `rows` rows. */
  insertSql(
    table: string,
    columns: readonly string[],
    rows: number,
    opts: { ignoreDuplicates?: boolean } = {},
  ): string {
    const key = `${table}\u0000${columns.join(',')}\u0000${rows}\u0000${opts.ignoreDuplicates ? 1 : 0}`;
    let sql = this.insertTexts.get(key);
    if (sql === undefined) {
      const verb = opts.ignoreDuplicates
        ? this.kind === 'mysql'
          ? 'INSERT IGNORE'
          : 'INSERT OR IGNORE'
        : 'INSERT';
      const tuple = `(${columns.map(() => '?').join(',')})`;
      sql = `${verb} INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(',')}) VALUES ${Array.from({ length: rows }, () => tuple).join(',')}`;
      // Bounded: row counts repeat (batches, args per request type).
      if (this.insertTexts.size < 2000) this.insertTexts.set(key, sql);
    }
    return sql;
  }

  async insertRows(
    m: EntityManager,
    table: string,
    columns: readonly string[],
    rows: unknown[][],
    opts: { ignoreDuplicates?: boolean } = {},
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const sql = this.insertSql(table, columns, rows.length, opts);
    const params = rows.flat();
    const pool = m.queryRunner ? undefined : this.pool;
    if (pool) return (await this.poolQuery<{ affectedRows: number }>(pool, sql, params)).affectedRows;
    return (await this.runnerQuery(m, sql, params)) ?? rows.length;
  }

  /** A hand-written statement; returns the affected row count. Inside `run`/`tx` (pass their manager). */
  async exec(m: EntityManager, sql: string, params: unknown[]): Promise<number> {
    const pool = m.queryRunner ? undefined : this.pool;
    if (pool)
      return (await this.poolQuery<{ affectedRows: number }>(pool, sql, params.map(sqlValue))).affectedRows;
    return (await this.runnerQuery(m, sql, params.map(sqlValue))) ?? 0;
  }

  /** A hand-written SELECT (rows as the driver returns them). Inside `run`/`tx`. */
  async select<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
    const pool = m.queryRunner ? undefined : this.pool;
    if (pool) return this.poolQuery<T[]>(pool, sql, params.map(sqlValue));
    return (await m.query(sql, params.map(sqlValue))) as T[];
  }

  /**
   * Run INSERT/UPDATE statements in order, outside a transaction, and return
   * each one's affected row count. On MySQL they go in as few round trips as
   * keep a packet under ~4 MiB (usually one); a failing statement stops the
   * rest. On SQLite they run one after the other. Retried on transient
   * errors, so the statements must be safe to repeat.
   */
  async execStatements(statements: Array<{ sql: string; params: unknown[] }>): Promise<number[]> {
    if (statements.length === 0) return [];
    const pool = this.pool;
    if (!pool) {
      return this.run(async (m) => {
        const out: number[] = [];
        for (const st of statements) out.push(await this.exec(m, st.sql, st.params));
        return out;
      });
    }
    const out: number[] = [];
    let group: Array<{ sql: string; params: unknown[] }> = [];
    let bytes = 0;
    const flush = async () => {
      if (group.length === 0) return;
      const sql = group.map((st) => st.sql).join(';\n');
      const params: unknown[] = [];
      for (const st of group) for (const v of st.params) params.push(sqlValue(v));
      const n = group.length;
      group = [];
      bytes = 0;
      const result = await this.retrying(() => this.poolQuery<unknown>(pool, sql, params));
      const results = n === 1 ? [result] : (result as unknown[]);
      for (const r of results) out.push(Number((r as { affectedRows?: number }).affectedRows ?? 0));
    };
    for (const st of statements) {
      let size = st.sql.length;
      for (const v of st.params) size += typeof v === 'string' ? v.length * 2 + 3 : 24;
      if (group.length > 0 && bytes + size > STATEMENT_GROUP_BYTES) await flush();
      group.push(st);
      bytes += size;
    }
    await flush();
    return out;
  }

  /**
   * Run INSERT/UPDATE statements as ONE transaction. On MySQL the whole
   * transaction (START … COMMIT) is a single multi-statement round trip on a
   * dedicated connection (rolled back there if any statement fails); on SQLite
   * it is an ordinary serialised transaction.
   */
  async txStatements(statements: Array<{ sql: string; params: unknown[] }>): Promise<void> {
    if (this.kind !== 'mysql') {
      await this.tx(async (m) => {
        for (const st of statements) await m.query(st.sql, st.params.map(sqlValue));
      });
      return;
    }
    const sql = `START TRANSACTION;\n${statements.map((st) => st.sql).join(';\n')};\nCOMMIT`;
    const params: unknown[] = [];
    for (const st of statements) for (const v of st.params) params.push(sqlValue(v));
    const pool = this.pool;
    await this.retrying(async () => {
      if (pool) {
        const conn = await new Promise<Mysql2Connection>((resolve, reject) =>
          pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
        );
        try {
          await new Promise<void>((resolve, reject) =>
            conn.query(sql, params, (err) => (err ? reject(err) : resolve())),
          );
        } catch (err) {
          // A failed statement stops the batch inside the open transaction: end it before the connection goes back.
          await new Promise<void>((resolve) => conn.query('ROLLBACK', () => resolve()));
          throw err;
        } finally {
          conn.release();
        }
        return;
      }
      const qr = this.ds.createQueryRunner();
      try {
        await qr.query(sql, params);
      } catch (err) {
        await qr.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await qr.release();
      }
    });
  }

  /**
   * Pre-open pool connections so the first burst of requests does not pay
   * for connection set-up. Best effort.
   */
  async warmUp(connections: number): Promise<void> {
    if (this.kind !== 'mysql') return;
    const runners = Array.from({ length: connections }, () => this.ds.createQueryRunner());
    try {
      await Promise.all(runners.map((qr) => qr.query('SELECT 1')));
    } catch (err) {
      this.logger?.warn('database warm-up failed', { error: (err as Error).message });
    } finally {
      await Promise.all(runners.map((qr) => qr.release()));
    }
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** Open (initialize) a DataSource; does not migrate. */
export async function openDataSource(target: DbTarget): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(target));
  await ds.initialize();
  return ds;
}

/**
 * Apply pending migrations. Safe when several RMs boot at once: on MySQL the
 * run happens under GET_LOCK('spincycle_migrate'), so the others wait and
 * then find nothing left to do; SQLite serialises writers itself.
 */
export async function migrate(ds: DataSource, logger?: Logger): Promise<string[]> {
  if (ds.options.type !== 'mysql') {
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  }
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    const [row] = (await qr.query("SELECT GET_LOCK('spincycle_migrate', 60) AS got")) as Array<{
      got: number | string | null;
    }>;
    if (Number(row?.got) !== 1)
      throw new Error(
        'could not get the migration lock (spincycle_migrate) within 60 s: another RM is migrating',
      );
    try {
      // MySQL commits DDL implicitly, so per-migration transactions buy nothing; migrations are re-runnable instead.
      const done = await ds.runMigrations({ transaction: 'none' });
      if (done.length > 0) logger?.info('migrations applied', { migrations: done.map((m) => m.name) });
      return done.map((m) => m.name);
    } finally {
      await qr.query("SELECT RELEASE_LOCK('spincycle_migrate')");
    }
  } finally {
    await qr.release();
  }
}

/** Names of migrations not yet applied. */
export async function pendingMigrations(ds: DataSource): Promise<boolean> {
  return ds.showMigrations();
}
