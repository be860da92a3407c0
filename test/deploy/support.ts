/**
 * What the deployment tests share: the files under deploy/ parsed, the services'
 * config schemas, and in-process RM (SQLite) and JR apps to probe real routes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDurationMs } from '@spincycle/protocol';
import { type ConfigSchema, silentLogger, splitAddr } from '@spincycle/service-kit';
import { parse as parseYaml } from 'yaml';
import { startJobRunner } from '../../services/job-runner/src/app.js';
import { JR_CONFIG_SCHEMA, loadJrConfig } from '../../services/job-runner/src/config.js';
import { loadRmConfig, RM_CONFIG_SCHEMA } from '../../services/request-manager/src/config.js';
import { createRequestManager } from '../../services/request-manager/src/rm.js';
import { REPO_ROOT } from '../support/system.js';

export { REPO_ROOT };

export const DEPLOY = join(REPO_ROOT, 'deploy');
export const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
/** YAML with merge keys (`<<: *anchor`), as compose reads it. */
export const readYaml = <T = Record<string, unknown>>(path: string) =>
  parseYaml(read(path), { merge: true }) as T;

/** The environment variables a config schema reads (LOG_LEVEL and LOG_FORMAT included). */
export function envNames(schema: ConfigSchema): Set<string> {
  return new Set(
    Object.values(schema)
      .map((f) => f.env)
      .filter((e): e is string => Boolean(e)),
  );
}

export type Role = 'rm' | 'jr';
export const SCHEMAS: Record<Role, ConfigSchema> = { rm: RM_CONFIG_SCHEMA, jr: JR_CONFIG_SCHEMA };

/** The default port of a service (from its `server.addr` default). */
export function defaultPort(role: Role): number {
  return splitAddr(String(SCHEMAS[role]['server.addr']?.default)).port;
}

export function portOf(addr: string): number {
  return splitAddr(addr).port;
}

/** The JR's hand-off budget: `shutdown.grace` as set in `env`, else its default, in ms. */
export function jrShutdownGraceMs(env: Record<string, string | undefined>): number {
  const raw = env.SPINCYCLE_SHUTDOWN_GRACE ?? String(JR_CONFIG_SCHEMA['shutdown.grace']?.default);
  return parseDurationMs(raw);
}

/** An in-process RM (SQLite) and JR on loopback; `get` answers the status of a GET on either. */
export async function startServices(): Promise<{
  url: Record<Role, string>;
  status(role: Role, path: string): Promise<number>;
  close(): Promise<void>;
}> {
  const rmConfig = loadRmConfig({
    env: {},
    overrides: {
      'server.addr': '127.0.0.1:0',
      'specs.dir': join(REPO_ROOT, 'specs'),
      'data.dir': mkdtempSync(join(tmpdir(), 'spincycle-deploy-')),
      'jr_client.url': 'http://127.0.0.1:9',
    },
  });
  const rm = await createRequestManager(rmConfig, { logger: silentLogger() });
  const rmServer = await rm.listen();
  const jrConfig = loadJrConfig(
    [],
    {},
    { 'server.addr': '127.0.0.1:0', 'rm_client.url': 'http://127.0.0.1:9' },
  );
  const jr = await startJobRunner({ config: jrConfig, logger: silentLogger(), heartbeat: false });
  const url = { rm: rmServer.url, jr: jr.url };
  return {
    url,
    status: async (role, path) => (await fetch(url[role] + path)).status,
    close: async () => {
      await jr.shutdown();
      await rm.close();
    },
  };
}
