/**
 * Runs once per `vitest run`: gives this test run its own MariaDB/MySQL
 * database and removes it afterwards. Tests read its URL with
 * `inject('mysqlUrl')` (also in SPINCYCLE_TEST_MYSQL_URL). MySQL must be reachable: the run fails, never skips.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** mysql://… URL of this run's own database. */
    mysqlUrl: string;
  }
}

const MARIADBD = '/usr/sbin/mariadbd';
const SERVER_URL = process.env.SPINCYCLE_TEST_MYSQL_SERVER ?? 'mysql://root@127.0.0.1:3306';

/** Connect; when nothing answers and a local MariaDB is installed, start it once and wait. */
async function connectOrStart(): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection(SERVER_URL);
  } catch (first) {
    if (!existsSync(MARIADBD)) throw unreachable(first);
    spawnSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', MARIADBD], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      try {
        return await mysql.createConnection(SERVER_URL);
      } catch {
        // still starting
      }
    }
    throw unreachable(first);
  }
}

function unreachable(err: unknown): Error {
  return new Error(
    `tests need MySQL/MariaDB at ${SERVER_URL} (set SPINCYCLE_TEST_MYSQL_SERVER): ${(err as Error).message}`,
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `spincycle_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const conn = await connectOrStart();
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await conn.end();
  process.env.SPINCYCLE_TEST_MYSQL_URL = `${SERVER_URL}/${name}`;
  project.provide('mysqlUrl', `${SERVER_URL}/${name}`);
  return async () => {
    const c = await mysql.createConnection(SERVER_URL);
    try {
      for (const db of await testDatabasesToDrop(c, name)) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
    } finally {
      await c.end();
    }
  };
}

/** Runs older than this are over (a run takes minutes): their databases are leftovers of a killed run. */
const STALE_RUN_MS = 6 * 60 * 60 * 1000;

/**
 * This run's database, the per-system ones made from it (test/support/system.ts names them
 * `<run>_<pid>_<n>`), and those of runs that were killed before their teardown, so the
 * server does not fill up with test databases. Another run going on at the same time is left alone.
 */
async function testDatabasesToDrop(c: mysql.Connection, run: string): Promise<string[]> {
  const [rows] = await c.query<mysql.RowDataPacket[]>("SHOW DATABASES LIKE 'spincycle\\_test\\_%'");
  const now = Date.now();
  return rows
    .map((r) => String(Object.values(r)[0]))
    .filter((db) => {
      if (db === run || db.startsWith(`${run}_`)) return true;
      const started = Number.parseInt(db.split('_')[2] ?? '', 36);
      return Number.isFinite(started) && now - started > STALE_RUN_MS;
    });
}
