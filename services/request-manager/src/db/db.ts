/**
 * `Db`: the small wrapper every store goes through. It serialises work on
 * SQLite (TypeORM's better-sqlite3 driver has ONE connection, so two
 * interleaved async transactions would nest into each other), retries
 * transient MySQL failures (deadlocks, lost connections) a bounded number of
 * times, and sends hot-path statements straight to mysql2's pool.
 */
import type { Logger } from '@spincycle/service-kit';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import {
  type DbKind,
  groupStatements,
  insertSql,
  mysqlParams,
  PING_SQL,
  ROLLBACK_SQL,
  rowBatches,
  STATEMENT_GROUP_BYTES,
  type Statement,
  sqlValue,
  transactionSql,
} from './sql.js';

/** Bytes a statement may take before `readLimits` has asked the server (MySQL 5.7's default packet, 4 MiB, less a margin). */
const DEFAULT_STATEMENT_BYTES = 4 * 1024 * 1024 - 64 * 1024;
/** Room left in a packet for the protocol and our estimate's slack. */
const PACKET_MARGIN = 64 * 1024;
/** The most one statement is built to take however big the server's packet is (bounds memory per statement). */
const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;
const MAX_ALLOWED_PACKET_SQL = 'SELECT @@max_allowed_packet AS packet';

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  private maxStatementBytes: number;

  constructor(
    readonly ds: DataSource,
    private readonly logger?: Logger,
  ) {
    this.kind = ds.options.type === 'mysql' ? 'mysql' : 'sqlite';
    this.mutex = this.kind === 'sqlite' ? new Mutex() : undefined;
    // SQLite has no packet: values are bound, not sent.
    this.maxStatementBytes = this.kind === 'mysql' ? DEFAULT_STATEMENT_BYTES : Number.POSITIVE_INFINITY;
  }

  /**
   * The most bytes one statement (text and values, as `valueBytes` estimates
   * them) may take: the server's `max_allowed_packet` less a margin on MySQL
   * (see `readLimits`), unbounded on SQLite. Big texts are stored in pieces
   * and multi-row INSERTs split so that every statement fits.
   */
  get statementBytes(): number {
    return this.maxStatementBytes;
  }

  /** Ask the server for `max_allowed_packet` (MySQL; once at start). Returns the packet size, undefined on SQLite. */
  async readLimits(): Promise<number | undefined> {
    if (this.kind !== 'mysql') return undefined;
    const [row] = await this.run((m) => this.select<{ packet: unknown }>(m, MAX_ALLOWED_PACKET_SQL, []));
    const packet = Number(row?.packet);
    if (!(packet > 0)) return undefined;
    this.maxStatementBytes = Math.min(MAX_STATEMENT_BYTES, Math.max(16 * 1024, packet - PACKET_MARGIN));
    this.logger?.debug('database statement size', {
      maxAllowedPacket: packet,
      statementBytes: this.maxStatementBytes,
    });
    return packet;
  }

  /** Override the statement size (tests: small pieces on either database). */
  setStatementBytes(bytes: number): void {
    this.maxStatementBytes = bytes;
  }

  /**
   * Multi-row INSERT statements for `rows`, as many as keep each under
   * `statementBytes` (and at most `maxRows` rows and `maxBytes` bytes each).
   */
  insertStatements(
    table: string,
    columns: readonly string[],
    rows: readonly unknown[][],
    opts: { ignoreDuplicates?: boolean; maxRows?: number; maxBytes?: number } = {},
  ): Statement[] {
    const out: Statement[] = [];
    const text = this.insertSql(table, columns, 1, opts).length;
    const tuple = columns.length * 2 + 3;
    // The statement text grows by a tuple per row: counted in with each row's values.
    const rowsBudget = Math.min(opts.maxBytes ?? Number.POSITIVE_INFINITY, this.maxStatementBytes) - text;
    const budget = Math.max(1, rowsBudget);
    for (const batch of rowBatches(rows, budget, opts.maxRows, tuple)) {
      const params: unknown[] = [];
      for (const row of batch) for (const v of row) params.push(v);
      out.push({ sql: this.insertSql(table, columns, batch.length, opts), params });
    }
    return out;
  }

  /** How many bytes `groupStatements` may join into one round trip. */
  private get groupBytes(): number {
    return Math.min(STATEMENT_GROUP_BYTES, this.maxStatementBytes);
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

  /** `INSERT [IGNORE] INTO table (cols) VALUES (?,…),(…)` for `rows` rows in this database's dialect (see sql.ts). */
  insertSql(
    table: string,
    columns: readonly string[],
    rows: number,
    opts: { ignoreDuplicates?: boolean } = {},
  ): string {
    return insertSql(this.kind, table, columns, rows, opts);
  }

  async insertRows(
    m: EntityManager,
    table: string,
    columns: readonly string[],
    rows: unknown[][],
    opts: { ignoreDuplicates?: boolean } = {},
  ): Promise<number> {
    let inserted = 0;
    for (const { sql, params } of this.insertStatements(table, columns, rows, opts)) {
      const pool = m.queryRunner ? undefined : this.pool;
      if (pool) inserted += (await this.poolQuery<{ affectedRows: number }>(pool, sql, params)).affectedRows;
      else inserted += (await this.runnerQuery(m, sql, params)) ?? params.length / columns.length;
    }
    return inserted;
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
  async execStatements(statements: readonly Statement[]): Promise<number[]> {
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
    for (const group of groupStatements(statements, this.groupBytes)) {
      const result = await this.retrying(() => this.poolQuery<unknown>(pool, group.sql, group.params));
      const results = group.count === 1 ? [result] : (result as unknown[]);
      for (const r of results) out.push(Number((r as { affectedRows?: number }).affectedRows ?? 0));
    }
    return out;
  }

  /**
   * Run INSERT/UPDATE statements as ONE transaction. On MySQL a transaction
   * that fits one packet (START … COMMIT) is a single multi-statement round
   * trip on a dedicated connection (rolled back there if any statement
   * fails); a bigger one goes in packet-sized groups on that connection. On
   * SQLite it is an ordinary serialised transaction.
   */
  async txStatements(statements: readonly Statement[]): Promise<void> {
    if (this.kind !== 'mysql') {
      await this.tx(async (m) => {
        for (const st of statements) await m.query(st.sql, st.params.map(sqlValue));
      });
      return;
    }
    const groups = [...groupStatements(statements, this.groupBytes)];
    const texts: Statement[] =
      groups.length === 1
        ? [transactionSql(statements)]
        : [{ sql: 'START TRANSACTION', params: [] }, ...groups, { sql: 'COMMIT', params: [] }];
    const pool = this.pool;
    await this.retrying(async () => {
      if (pool) {
        const conn = await new Promise<Mysql2Connection>((resolve, reject) =>
          pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
        );
        try {
          for (const t of texts)
            await new Promise<void>((resolve, reject) =>
              conn.query(t.sql, mysqlParams(t.params), (err) => (err ? reject(err) : resolve())),
            );
        } catch (err) {
          // A failed statement stops the batch inside the open transaction: end it before the connection goes back.
          await new Promise<void>((resolve) => conn.query(ROLLBACK_SQL, () => resolve()));
          throw err;
        } finally {
          conn.release();
        }
        return;
      }
      const qr = this.ds.createQueryRunner();
      try {
        for (const t of texts) await qr.query(t.sql, mysqlParams(t.params));
      } catch (err) {
        await qr.query(ROLLBACK_SQL).catch(() => undefined);
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
      await Promise.all(runners.map((qr) => qr.query(PING_SQL)));
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
