/**
 * Runs once per `vitest run`: gives this test run its own MariaDB/MySQL
 * database and removes it afterwards. Tests read its URL with
 * `inject('mysqlUrl')` (also in SPINCYCLE_TEST_MYSQL_URL). MySQL must be reachable: the run fails, never skips.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** mysql://… URL of this run's own database. */
    mysqlUrl: string;
  }
}

const SERVER_URL = process.env.SPINCYCLE_TEST_MYSQL_SERVER ?? 'mysql://root@127.0.0.1:3306';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `spincycle_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(SERVER_URL);
  } catch (err) {
    throw new Error(`tests need MySQL/MariaDB at ${SERVER_URL} (set SPINCYCLE_TEST_MYSQL_SERVER): ${(err as Error).message}`);
  }
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await conn.end();
  process.env.SPINCYCLE_TEST_MYSQL_URL = `${SERVER_URL}/${name}`;
  project.provide('mysqlUrl', `${SERVER_URL}/${name}`);
  return async () => {
    const c = await mysql.createConnection(SERVER_URL);
    await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await c.end();
  };
}
