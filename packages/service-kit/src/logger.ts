/**
 * Structured logging for the services: one winston root, JSON lines by
 * default, readable single lines on a terminal (or LOG_FORMAT=pretty), and
 * `child({ component })` loggers per module. A line written while a call is
 * handled (or work it started: a chain, a report) carries that call's
 * `traceId` and `spanId`.
 */
import { currentTrace } from '@spincycle/protocol';
import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** `json` (default when not a TTY) or `pretty`. */
  format?: 'json' | 'pretty';
  service: string;
}

export function createLogger(opts: LoggerOptions): Logger {
  const envFormat = process.env.LOG_FORMAT;
  const format =
    opts.format ??
    (envFormat === 'json' || envFormat === 'pretty' ? envFormat : process.stdout.isTTY ? 'pretty' : 'json');
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty = winston.format.printf(({ level: lvl, message, timestamp, service, component, ...rest }) => {
    const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest, bigintSafe)}` : '';
    return `${timestamp} ${lvl} [${component ?? service}] ${message}${fields}`;
  });
  return winston.createLogger({
    level,
    defaultMeta: { service: opts.service },
    format: winston.format.combine(
      winston.format.timestamp(),
      withTrace(),
      winston.format.errors({ stack: true }),
      format === 'pretty'
        ? winston.format.combine(winston.format.colorize(), pretty)
        : winston.format.json({ replacer: bigintSafe }),
    ),
    transports: [new winston.transports.Console({ stderrLevels: [] })],
  });
}

/** The current trace's ids on the entry (ids the caller gave win). */
const withTrace = winston.format((info) => {
  const trace = currentTrace();
  if (trace && info.traceId === undefined) {
    info.traceId = trace.traceId;
    info.spanId = trace.spanId;
  }
  return info;
});

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** A logger that discards everything (library code given no logger). */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}
