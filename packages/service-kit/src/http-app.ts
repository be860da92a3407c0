/**
 * The HTTP edge shared by the RM and the JR: version header, JSON bodies that
 * keep nanosecond integers exact, 404/405/413/415 answers, and the single place
 * where typed errors become status codes and the standard error body
 * `{"message","requestId","httpStatus"}`. No stack trace ever leaves the server.
 */

import {
  BadRequestError,
  parseJsonText,
  ShuttingDownError,
  SPINCYCLE_VERSION,
  SpinCycleError,
  stringifyJson,
  TooManyRequestsError,
  VERSION_HEADER,
} from '@spincycle/protocol';
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from 'express';
import { observeCalls, reenterTrace, routeMarker } from './http-observe.js';
import type { Logger } from './logger.js';

export interface AppOptions {
  logger: Logger;
  /**
   * Largest accepted body (`1mb`, or bytes; default 64 MiB: big chains and log
   * batches). Calls that `withBodyLimit` selects get their own limit.
   */
  bodyLimit?: string | number;
  /** Middleware run before the body is read (e.g. a 503 guard while draining, so no body is parsed for nothing). */
  beforeBody?: RequestHandler[];
  /** `service` label of the HTTP metrics (`rm`, `jr`). */
  service?: string;
}

/** Standard error body. */
export function errorBody(message: string, httpStatus: number) {
  return { message, requestId: '', httpStatus };
}

/** Send JSON with bigints written as integers. */
export function sendJson(res: Response, status: number, body: unknown): void {
  sendJsonText(res, status, stringifyJson(body));
}

/**
 * Send JSON text. Straight to node (what express' `send` would do for JSON:
 * status, type with charset, length, no body for HEAD), skipping its
 * per-call work; a string body leaves in one write with the headers.
 */
export function sendJsonText(res: Response, status: number, text: string): void {
  sendJsonParts(res, status, [text]);
}

/** Bodies at least this long are not joined with the headers (that would copy them once more). */
const BIG_BODY = 64 * 1024;

/**
 * Send JSON text given in pieces (e.g. a stored chain between the fields
 * around it), written one after the other: a big body is never joined into
 * one more copy.
 */
export function sendJsonParts(res: Response, status: number, parts: readonly string[]): void {
  let length = 0;
  let chars = 0;
  for (const p of parts) {
    length += Buffer.byteLength(p);
    chars += p.length;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', length);
  if (parts.length === 1 && chars < BIG_BODY) {
    res.end(parts[0]);
    return;
  }
  // Headers on their own, then each piece; big text as bytes (as express sends it), which lets
  // V8 account for that memory and collect the text sooner.
  res.flushHeaders();
  const out = (p: string) => (p.length >= BIG_BODY ? Buffer.from(p) : p);
  for (let i = 0; i < parts.length - 1; i++) res.write(out(parts[i] as string));
  res.end(out(parts[parts.length - 1] as string));
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
  pb: 1024 ** 5,
};

/** A body limit such as `64mb` in bytes, as body-parser reads it; undefined when it is not one. */
export function parseByteLimit(limit: string): number | undefined {
  const m = /^((?:-|\+)?\d+(?:\.\d+)?) *(b|kb|mb|gb|tb|pb)?$/i.exec(limit.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] as number));
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * Deepest nesting of objects and arrays a JSON body may have. JSON.parse takes
 * any depth, but writing a value back (JSON.stringify: a suspended chain stored,
 * an answer sent) and the lossless parser fail past ~4,000 levels with a
 * RangeError, which would be a 500 for the caller's input, or a chain a Job
 * Runner takes but cannot hand back when it suspends it.
 */
export const MAX_JSON_DEPTH = 512;

/**
 * Whether JSON text nests objects and arrays deeper than `limit`: one pass over
 * the structural characters, strings skipped with indexOf (a few ms for a
 * 2 MB chain, far less than parsing it). Text that is not JSON is answered
 * loosely; the parser rejects it next.
 */
export function nestedDeeperThan(text: string, limit: number): boolean {
  const n = text.length;
  // Deeper than `limit` takes more than `limit` opening brackets: most bodies are too short for it.
  if (n <= limit) return false;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // To the closing quote: one after an even run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return false;
        let k = i - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((i - 1 - k) % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

const ignore = () => undefined;

function httpError(status: number, message: string, type: string, limit?: number): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type, limit });
}

/**
 * The one hand-written body reader, for plain (identity-encoded) UTF-8 bodies,
 * which is what every client sends: the bytes, one conversion, where
 * body-parser would decode through iconv (measurably slower for multi-megabyte
 * chains and log batches). Compressed bodies and other charsets go through
 * body-parser. Over `limit` it is a 413 (`entity.too.large`, sent once the
 * rest of the body was read off, within the server's request timeout, and the
 * connection is then closed); a body cut short is a 400.
 */
function readUtf8(req: Request, limit: number, done: (err: Error | undefined, text?: string) => void): void {
  const declared = req.headers['content-length'];
  let tooLarge = declared !== undefined && Number(declared) > limit;
  const chunks: Buffer[] = [];
  let size = 0;
  const cleanup = () => {
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('error', onError);
    req.removeListener('close', onClose);
    // A late error of a dropped connection must not become an unhandled 'error' event.
    req.on('error', ignore);
  };
  const onData = (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
    } else chunks.push(chunk);
  };
  const onEnd = () => {
    cleanup();
    if (tooLarge) return done(httpError(413, 'request entity too large', 'entity.too.large', limit));
    const text =
      chunks.length === 1
        ? (chunks[0] as Buffer).toString('utf8')
        : Buffer.concat(chunks, size).toString('utf8');
    // A byte order mark is dropped, as body-parser's decoder does.
    done(undefined, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  };
  const onError = (err: Error) => {
    cleanup();
    done(httpError(400, err.message || 'request aborted', 'request.aborted'));
  };
  const onClose = () => {
    if (req.complete) return;
    cleanup();
    done(httpError(400, 'request aborted', 'request.aborted'));
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
  req.on('close', onClose);
}

const BODY_LIMIT = 'spincycleBodyLimit';

/** A body limit in bytes; throws naming the text when it is not one. */
export function byteLimit(limit: string | number): number {
  const n = typeof limit === 'number' ? limit : parseByteLimit(limit);
  if (n === undefined || !Number.isSafeInteger(n) || n < 0)
    throw new Error(`invalid body limit ${JSON.stringify(limit)}: use bytes or e.g. 1mb, 64mb`);
  return n;
}

/**
 * Middleware (run it in `beforeBody`, e.g. on an express Router of the
 * calls it is for): those calls may send bodies up to `limit` instead of the
 * app's `bodyLimit`.
 */
export function withBodyLimit(limit: string | number): RequestHandler {
  const bytes = byteLimit(limit);
  return (_req, res, next) => {
    res.locals[BODY_LIMIT] = bytes;
    next();
  };
}

function jsonBody(defaultLimit: number) {
  // body-parser instances by limit (an app has one or two).
  const parsers = new Map<number, RequestHandler>();
  const bodyParser = (limit: number) => {
    let p = parsers.get(limit);
    if (!p) {
      p = express.text({ type: () => true, limit });
      parsers.set(limit, p);
    }
    return p;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const limit = (res.locals[BODY_LIMIT] as number | undefined) ?? defaultLimit;
    const hasBody =
      req.headers['content-length'] !== undefined
        ? req.headers['content-length'] !== '0'
        : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return next();
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
      return sendJson(
        res,
        415,
        errorBody(`unsupported Content-Type '${type || '(none)'}': send application/json`, 415),
      );
    }
    const withText = (err: unknown, text: string) => {
      if (err) return next(err);
      if (text.trim() === '') {
        req.body = undefined;
        return next();
      }
      if (nestedDeeperThan(text, MAX_JSON_DEPTH))
        return next(
          new BadRequestError(
            `JSON body nested too deeply: more than ${MAX_JSON_DEPTH} levels of objects and arrays`,
          ),
        );
      try {
        // JSON.parse unless the text may hold an integer too big for a double.
        req.body = parseJsonText(text);
      } catch (e) {
        return next(new BadRequestError(`malformed JSON body: ${(e as Error).message}`));
      }
      next();
    };
    const encoding = req.headers['content-encoding'];
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase();
    if (
      (encoding === undefined || encoding.toLowerCase() === 'identity') &&
      (charset === undefined || charset === 'utf-8' || charset === 'utf8')
    ) {
      readUtf8(req, limit, (err, text) => withText(err, text ?? ''));
      return;
    }
    bodyParser(limit)(req, res, (err?: unknown) =>
      withText(err, typeof req.body === 'string' ? req.body : ''),
    );
  };
}

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** At most 200 characters of a caller's text, for a message. */
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** An express app with the common middleware installed; add routes, then call `finishApp`. */
export function createApp(opts: AppOptions): Express {
  const limit = byteLimit(opts.bodyLimit ?? '64mb');
  const app = express();
  recordRoutes(app);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(observeCalls(opts.service ?? 'unknown'));
  app.use((req, res, next) => {
    res.setHeader(VERSION_HEADER, SPINCYCLE_VERSION);
    // Access log only at debug level; checked first because winston does the work even for filtered entries.
    if (opts.logger.isDebugEnabled()) {
      const start = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        opts.logger.debug('http', {
          method: req.method,
          path: req.originalUrl,
          status: res.statusCode,
          ms: +ms.toFixed(2),
        });
      });
    }
    // Broken percent-encoding (`%zz`, `%C0%AF`) would fail in the router's decoding of a route
    // parameter, an error it leaves unexposed (a 500): it is the caller's, so a 400 before auth and body.
    if (req.path.includes('%') && !decodable(req.path))
      return next(new BadRequestError(`malformed URL path: invalid percent-encoding in '${clip(req.path)}'`));
    next();
  });
  for (const mw of opts.beforeBody ?? []) app.use(mw);
  app.use(jsonBody(limit), reenterTrace);
  app.get('/version', (_req, res) => {
    res.type('text/plain').send(SPINCYCLE_VERSION);
  });
  app.get('/health', (_req, res) => {
    res.type('text/plain').send('OK');
  });
  return app;
}

/**
 * Middleware: 503 while draining. With `matches`, only for the calls it selects
 * (create/start), so it can run before the body is read.
 */
export function drainingGuard(
  isDraining: () => boolean,
  message: string,
  matches?: (req: Request) => boolean,
) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (isDraining() && (!matches || matches(req))) return next(new ShuttingDownError(message));
    next();
  };
}

/** The HTTP methods of each app's routes by path, matched by an express Router (the app's own rules). */
const knownRoutes = new WeakMap<Express, Router>();
const ALLOWED = 'spincycleAllowed';
const ROUTE_METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

/**
 * Record the routes added with `app.get/post/put/delete/patch` on a Router
 * of their own, so that the 405 answer can find the methods a path has
 * without reading express' private router stack.
 */
function recordRoutes(app: Express): void {
  const probe = Router();
  knownRoutes.set(app, probe);
  for (const method of ROUTE_METHODS) {
    const add = (app[method] as (...args: unknown[]) => Express).bind(app);
    const mark: RequestHandler = (_req, res, next) => {
      const allowed = (res.locals[ALLOWED] as Set<string> | undefined) ?? new Set<string>();
      res.locals[ALLOWED] = allowed.add(method.toUpperCase());
      next();
    };
    (app as unknown as Record<string, unknown>)[method] = (path: unknown, ...handlers: unknown[]) => {
      // One argument: `app.get(setting)` reads a setting.
      if (handlers.length === 0) return add(path);
      probe.all(path as string, mark);
      return add(path, routeMarker(path), ...handlers);
    };
  }
}

/**
 * Install the 404/405 fallbacks and the error mapper: a wrong method on a
 * path that has routes (added with `app.get`, `app.put`, ...) is a 405.
 */
export function finishApp(app: Express, logger: Logger): void {
  app.use((req: Request, res: Response) => {
    const answer = () => {
      const allowed = res.locals[ALLOWED] as Set<string> | undefined;
      if (allowed && allowed.size > 0) {
        res.setHeader('Allow', [...allowed].join(', '));
        return sendJson(res, 405, errorBody('Method Not Allowed', 405));
      }
      sendJson(res, 404, errorBody('Not Found', 404));
    };
    const probe = knownRoutes.get(app);
    if (probe) probe(req, res, answer);
    else answer();
  });
  const handler: ErrorRequestHandler = (err, req, res, _next) => {
    if (res.headersSent) return;
    const e = err as { status?: number; type?: string; message?: string; expose?: boolean; limit?: number };
    if (err instanceof SpinCycleError) {
      if (err.httpStatus >= 500)
        logger.error('request failed', {
          method: req.method,
          path: req.originalUrl,
          error: err.message,
          cause: String((err as Error).cause ?? ''),
        });
      if (err instanceof TooManyRequestsError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      return sendJson(res, err.httpStatus, errorBody(err.message, err.httpStatus));
    }
    if (e.type === 'entity.too.large') {
      // The caller sent (or meant to send) more than it may: the connection is not reused.
      res.setHeader('Connection', 'close');
      const over = typeof e.limit === 'number' ? `over the limit of ${e.limit} bytes` : e.message;
      return sendJson(res, 413, errorBody(`request body too large: ${over}`, 413));
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      return sendJson(res, e.status, errorBody(e.message ?? 'bad request', e.status));
    }
    logger.error('unhandled error', {
      method: req.method,
      path: req.originalUrl,
      error: (err as Error)?.stack ?? String(err),
    });
    sendJson(res, 500, errorBody('Internal Server Error', 500));
  };
  app.use(handler);
}
