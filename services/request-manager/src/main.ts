#!/usr/bin/env node
/**
 * Request Manager process.
 *   node dist/main.js [serve] [configFile]   run the RM
 *   node dist/main.js migrate [configFile]   apply pending database migrations and exit
 *   node dist/main.js help                   list every config key
 *   node dist/main.js hash-token [token]     SHA-256 of a token for auth.tokens_file (token from stdin when omitted)
 *   node dist/main.js hash-token --new       a new random token and its hash
 */
import 'reflect-metadata';
import {
  ConfigError,
  createLogger,
  describeConfig,
  limitHeapGrowth,
  ShutdownManager,
} from '@spincycle/service-kit';
import { hashToken, newToken } from './auth/tokens.js';
import { SpecsError } from './catalog.js';
import { loadRmConfig, RM_CONFIG_SCHEMA, type RmConfigValues, redactRmConfig } from './config.js';
import { dbTargetFromConfig, openDataSource } from './db/data-source.js';
import { migrate } from './db/migrate.js';
import { createRequestManager } from './rm.js';

const COMMANDS = new Set(['serve', 'migrate', 'help', 'hash-token']);

/** `hash-token`: print the line to put in `auth.tokens_file` (the token itself is never stored). */
async function hashTokenCommand(arg: string | undefined): Promise<number> {
  let token: string;
  if (arg === '--new') {
    token = newToken();
    process.stdout.write(`token: ${token}\n`);
  } else if (arg !== undefined && arg !== '-') {
    token = arg;
  } else {
    if (process.stdin.isTTY) process.stderr.write('token: ');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    token = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]?.trim() ?? '';
  }
  if (token === '') {
    process.stderr.write('hash-token: empty token\n');
    return 2;
  }
  process.stdout.write(`${hashToken(token)}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0] && COMMANDS.has(argv[0]) ? argv[0] : 'serve';
  const file = command === argv[0] ? argv[1] : argv[0];
  if (command === 'hash-token') return hashTokenCommand(file);
  if (command === 'help' || file === '--help' || file === '-h') {
    process.stdout.write(
      `usage: main.js [serve|migrate] [configFile]\n       main.js hash-token [token|--new]\n\nconfig keys (YAML key, env var, type, default):\n${describeConfig(RM_CONFIG_SCHEMA)}\n`,
    );
    return 0;
  }
  if (command === 'serve') limitHeapGrowth();
  let config: RmConfigValues;
  try {
    config = loadRmConfig({ file });
  } catch (err) {
    const boot = createLogger({ service: 'request-manager' });
    boot.error(err instanceof ConfigError ? err.message : `config: ${(err as Error).message}`);
    return 2;
  }
  const logger = createLogger({
    service: 'request-manager',
    level: config['log.level'],
    format: config['log.format'] as 'json' | 'pretty' | undefined,
  });
  logger.info('config', { command, file: file ?? '(implicit)', config: redactRmConfig(config) });

  if (command === 'migrate') {
    const ds = await openDataSource(dbTargetFromConfig(config));
    try {
      const applied = await migrate(ds, logger.child({ component: 'migrate' }));
      logger.info(applied.length > 0 ? 'migrations applied' : 'database schema is up to date', { applied });
    } finally {
      await ds.destroy();
    }
    return 0;
  }

  let rm: Awaited<ReturnType<typeof createRequestManager>>;
  try {
    rm = await createRequestManager(config, { logger });
  } catch (err) {
    if (err instanceof SpecsError) {
      logger.error('refusing to start: the request specs have errors', {
        dir: err.dir,
        errors: err.errors.length,
      });
      process.stderr.write(`${err.message}\n`);
    } else if (err instanceof ConfigError) {
      logger.error(err.message);
      return 2;
    } else {
      logger.error('refusing to start', { error: (err as Error).stack ?? String(err) });
    }
    return 1;
  }
  const shutdown = new ShutdownManager(logger.child({ component: 'shutdown' }));
  shutdown.register('stop intake (503 for create/start)', () => rm.beginDrain());
  shutdown.register('stop resumer', () => rm.resumer.stop());
  shutdown.register('stop sweeper (hand its lease on)', () => rm.sweeper.stop());
  const server = await rm.listen();
  shutdown.register('close http server', () => server.close());
  shutdown.register('close database', () => rm.db.close());
  const reloads = rm.reloadSteps();
  for (const step of reloads) shutdown.onReload(step.name, step.run);
  shutdown.installSignalHandlers();
  logger.info('Request Manager listening', {
    url: server.url,
    db: rm.db.kind,
    requestTypes: rm.catalog.requestList().length,
    jobRunners: rm.jrs.urls,
    resumer: rm.resumer.me,
    auth: rm.auth.summary,
    reloadOnSighup: reloads.map((s) => s.name),
  });
  const withAcls = rm.catalog
    .requestList()
    .filter((r) => (rm.catalog.specs.sequences.get(r.Name)?.acl.length ?? 0) > 0);
  if (withAcls.length > 0 && rm.auth.summary.acls !== 'enforced')
    logger.warn('specs define ACLs but no authentication is configured, so they are not enforced', {
      requests: withAcls.map((r) => r.Name),
    });
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`request-manager: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
