/**
 * How the RM connects to its database: the target resolved from config
 * (`mysql.*`, or a SQLite file), the TypeORM DataSource options for either
 * driver, and opening it (migrations are applied by migrate.ts).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type RmConfigValues, sqliteFile } from '../config.js';
import { ENTITIES } from './entities.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrate.js';
import { parseMysqlDsn } from './mysql-dsn.js';

export interface DbTarget {
  /** mysql:// URL or Go DSN; undefined = SQLite. */
  mysqlDsn?: string;
  /** SQLite file path (or `:memory:`). */
  sqlitePath?: string;
  poolSize?: number;
  mysqlTls?: { certFile?: string; keyFile?: string; caFile?: string };
}

export function dbTargetFromConfig(cfg: RmConfigValues): DbTarget {
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
      // Lets `Db.txStatements` send a create's whole transaction in one round trip instead of
      // five, and `Db.execStatements` a report's writes in one (on a local MariaDB a create's
      // transaction took ~0.5–0.8 ms this way against ~1.1–2.3 ms statement by statement).
      // Every value still goes through placeholders, never into the SQL text.
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

/** Open (initialize) a DataSource; does not migrate. */
export async function openDataSource(target: DbTarget): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(target));
  await ds.initialize();
  return ds;
}
