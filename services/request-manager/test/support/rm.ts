/**
 * An in-process Request Manager on a free port, on SQLite or MariaDB, with
 * typed clients. For tests that do not need a real Job Runner.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RmClient, RmInternalClient, stringifyJson } from '@spincycle/protocol';
import { createLogger, type RunningServer, silentLogger } from '@spincycle/service-kit';
import type { Authenticator, Authorizer } from '../../src/auth.js';
import type { RequestCatalog } from '../../src/catalog.js';
import { loadRmConfig, type RmConfigValues } from '../../src/config.js';
import type { DbTarget } from '../../src/db/data-source.js';
import type { DbKind } from '../../src/db/sql.js';
import { createRequestManager, type RequestManager } from '../../src/rm.js';
import { newTarget } from './db.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const SPECS_DIR = join(FIXTURES, 'specs');

export interface TestRm {
  rm: RequestManager;
  server: RunningServer;
  url: string;
  client: RmClient;
  internal: RmInternalClient;
  config: RmConfigValues;
  /** The database, to start another RM on it. */
  target: DbTarget;
  close(): Promise<void>;
}

export interface TestRmOptions {
  db: DbKind;
  jrUrl: string;
  overrides?: Record<string, unknown>;
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  /** Specs and job factory to use instead of the fixtures' specs and the built-in jobs. */
  catalog?: RequestCatalog;
  /** Share this database (another test RM's `target`) instead of a new one; it is not dropped on close. */
  target?: DbTarget;
  /** The scheduler's clock. */
  now?: () => Date;
}

export async function startTestRm(opts: TestRmOptions): Promise<TestRm> {
  const { target, cleanup } = opts.target
    ? { target: opts.target, cleanup: async () => undefined }
    : await newTarget(opts.db);
  const config = loadRmConfig({
    env: {},
    overrides: {
      'server.addr': '127.0.0.1:0',
      'specs.dir': SPECS_DIR,
      'jr_client.url': opts.jrUrl,
      'jr_client.timeout': '5s',
      // The loop is driven by hand in tests.
      'resumer.interval': '1h',
      ...(target.mysqlDsn
        ? { 'mysql.dsn': target.mysqlDsn, 'mysql.pool_size': 10 }
        : { 'data.dir': dirname(target.sqlitePath as string) }),
      ...opts.overrides,
    },
  });
  const level = process.env.SPINCYCLE_TEST_LOG_LEVEL;
  const logger = level ? createLogger({ service: 'request-manager', level, format: 'json' }) : silentLogger();
  const rm = await createRequestManager(config, {
    logger,
    authenticator: opts.authenticator,
    authorizer: opts.authorizer,
    catalog: opts.catalog,
    now: opts.now,
  });
  const server = await rm.listen();
  await rm.resumer.stop();
  // Driven by hand in tests, like the resumer.
  await rm.sweeper.stop();
  return {
    rm,
    server,
    url: server.url,
    client: new RmClient({ baseURL: server.url, retry: { attempts: 1 } }),
    internal: new RmInternalClient({ baseURL: server.url, retry: { attempts: 1 } }),
    config,
    target,
    close: async () => {
      await rm.close();
      await cleanup();
    },
  };
}

/** Plain fetch returning status, headers and parsed body (for exact wire checks). */
export async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : stringifyJson(body);
    (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
