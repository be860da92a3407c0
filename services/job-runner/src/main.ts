/**
 * Job Runner entry point: `node dist/main.js [configFile]`. Loads config,
 * builds the JR, serves HTTP, and on SIGTERM/SIGINT suspends every chain
 * back to the RM before exiting; SIGHUP re-reads the token and TLS files.
 */
import {
  ConfigError,
  createLogger,
  limitHeapGrowth,
  redactConfig,
  ShutdownManager,
} from '@spincycle/service-kit';
import { errorText } from '@spincycle/traversal';
import { startJobRunner } from './app.js';
import { JR_CONFIG_SCHEMA, loadJrConfig } from './config.js';

async function main(): Promise<void> {
  limitHeapGrowth();
  let config: ReturnType<typeof loadJrConfig>;
  try {
    config = loadJrConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`job-runner: ${err instanceof ConfigError ? err.message : errorText(err)}\n`);
    process.exit(2);
  }
  const logger = createLogger({ service: 'job-runner', level: config.logLevel, format: config.logFormat });
  // A job must never take the process down: log what escaped and keep running the other chains.
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled promise rejection (a job or a library)', { error: errorText(reason) }),
  );
  process.on('uncaughtException', (err) =>
    logger.error('uncaught exception (a job or a library)', { error: err?.stack ?? errorText(err) }),
  );
  logger.info('config', redactConfig(JR_CONFIG_SCHEMA, config.values as Record<string, unknown>));

  let jr: Awaited<ReturnType<typeof startJobRunner>>;
  try {
    jr = await startJobRunner({ config, logger });
  } catch (err) {
    logger.error('job runner failed to start', { error: errorText(err) });
    process.exit(1);
  }
  const shutdown = new ShutdownManager(logger);
  shutdown.register('suspend chains, flush to the RM, close HTTP', () => jr.shutdown());
  for (const step of jr.reloadSteps) shutdown.onReload(step.name, step.run);
  shutdown.installSignalHandlers();
}

void main();
