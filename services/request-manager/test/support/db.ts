/**
 * Test databases: a fresh SQLite file or a fresh MariaDB database (inside the
 * run's server, named after the run database) per call, migrated. `drop`
 * removes it again. Storage tests loop over DB_KINDS so both drivers run the
 * same test bodies.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { type DbTarget, openDataSource } from '../../src/db/data-source.js';
import { Db } from '../../src/db/db.js';
import { migrate } from '../../src/db/migrate.js';
import type { DbKind } from '../../src/db/sql.js';

export const DB_KINDS: DbKind[] = ['sqlite', 'mysql'];

export interface TestDb {
  kind: DbKind;
  db: Db;
  target: DbTarget;
  /** Close and delete the database. */
  drop(): Promise<void>;
}

function serverUrl(): { server: string; base: string } {
  const runUrl = process.env.SPINCYCLE_TEST_MYSQL_URL;
  if (!runUrl) throw new Error('SPINCYCLE_TEST_MYSQL_URL is not set (test/support/global-setup.ts sets it)');
  const u = new URL(runUrl);
  return {
    server: `${u.protocol}//${u.username}${u.password ? `:${u.password}` : ''}@${u.host}`,
    base: u.pathname.slice(1),
  };
}

/** A new empty MySQL database; returns its mysql:// URL and a dropper. */
async function newMysqlUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const { server, base } = serverUrl();
  const name = `${base}_rm_${randomBytes(4).toString('hex')}`;
  const conn = await mysql.createConnection(server);
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await conn.end();
  return {
    url: `${server}/${name}`,
    drop: async () => {
      const c = await mysql.createConnection(server);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

export async function newTarget(kind: DbKind): Promise<{ target: DbTarget; cleanup: () => Promise<void> }> {
  if (kind === 'mysql') {
    const { url, drop } = await newMysqlUrl();
    return { target: { mysqlDsn: url, poolSize: 10 }, cleanup: drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rm-sqlite-'));
  return {
    target: { sqlitePath: join(dir, 'spincycle.sqlite') },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function openTestDb(kind: DbKind): Promise<TestDb> {
  const { target, cleanup } = await newTarget(kind);
  const ds = await openDataSource(target);
  await migrate(ds);
  const db = new Db(ds);
  return {
    kind,
    db,
    target,
    drop: async () => {
      await db.close();
      await cleanup();
    },
  };
}
