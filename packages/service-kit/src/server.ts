/** Start an HTTP or HTTPS server on `host:port` and report the URL it is reachable at. */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { SPINCYCLE_VERSION, VERSION_HEADER } from '@spincycle/protocol';
import type { Express } from 'express';
import { errorBody } from './http-app.js';

export interface TlsFiles {
  certFile?: string;
  keyFile?: string;
  /** When set on a server: client certificates are requested and verified against it. */
  caFile?: string;
}

export interface RunningServer {
  server: http.Server;
  /** e.g. `http://127.0.0.1:32308` (the real port when 0 was asked). */
  url: string;
  close(): Promise<void>;
  /**
   * HTTPS only: read the certificate, key and CA files again and use them for
   * new connections (`setSecureContext`); throws, keeping the old ones, when a
   * file cannot be read or the pair does not match.
   */
  reloadTls?: () => void;
}

/** What a server spends on one connection and how many it holds (see `startServer`). */
export interface ServerLimits {
  /** Time to receive a request's line and headers (default 15 s); a 408 after it. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (default 60 s); a 408 after it. */
  requestTimeoutMs?: number;
  /** Open connections at most (default 1024; 0 = no limit); connections past it are closed at once. */
  maxConnections?: number;
}

export const DEFAULT_SERVER_LIMITS: Required<ServerLimits> = {
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 60_000,
  maxConnections: 1024,
};

export function splitAddr(addr: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m) throw new Error(`server.addr '${addr}' must be host:port`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export function tlsEnabled(tls: TlsFiles | undefined): boolean {
  return Boolean(tls?.certFile && tls.keyFile);
}

type NodeCtor = (this: unknown, ...args: unknown[]) => void;

/**
 * Request and response classes whose objects carry the app's express
 * prototypes from birth. Express otherwise swaps the prototype of every
 * request and response (`Object.setPrototypeOf`), which gives them a new
 * hidden class and sends node's own HTTP code down slow, megamorphic paths:
 * ~60 µs per call, as much as the rest of a small call. With the prototype
 * already in place express' swap changes nothing; everything else is as
 * before. (Only for an app that is not mounted under another one.)
 */
export function expressHttpClasses(app: Express): http.ServerOptions {
  const { request, response } = app as unknown as { request?: object; response?: object };
  if (!request || !response) return {};
  function Request(this: unknown, socket: unknown) {
    (http.IncomingMessage as unknown as NodeCtor).call(this, socket);
  }
  Request.prototype = request;
  function Response(this: unknown, req: unknown, options: unknown) {
    (http.ServerResponse as unknown as NodeCtor).call(this, req, options);
  }
  Response.prototype = response;
  return {
    IncomingMessage: Request as unknown as typeof http.IncomingMessage,
    ServerResponse: Response as unknown as typeof http.ServerResponse,
  };
}

/** Requests node cannot parse, by its error code: the status it answers them with and why (default 400). */
const CLIENT_ERRORS: Record<string, { status: number; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: `request line and headers too large: over ${http.maxHeaderSize} bytes (a very long URL?)`,
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    reason: 'Payload Too Large',
    message: 'chunk extensions too large',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    message: 'request not received in time',
  },
};

/**
 * A server's `clientError` handler: node's answer to a request it cannot
 * parse (431 for an over-long URL or headers, 400 for a malformed request),
 * with the standard error body that node itself leaves out, then the
 * connection is closed. As node does, nothing is written once a response
 * on the connection has begun.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[err.code ?? ''];
  endWithError(
    socket,
    known?.status ?? 400,
    known?.reason ?? 'Bad Request',
    known?.message ?? `malformed HTTP request: ${err.message}`,
  );
}

/**
 * A server's `connect` handler: a CONNECT request (a proxy tunnel) is a 405
 * with the standard error body. Without a handler node closes the connection
 * and the caller gets no answer at all.
 */
export function refuseConnect(_req: http.IncomingMessage, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  endWithError(socket, 405, 'Method Not Allowed', 'Method Not Allowed: CONNECT (this is no proxy)');
}

/** Write a whole error response straight to the connection, then close it. */
function endWithError(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify(errorBody(message, status));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `${VERSION_HEADER}: ${SPINCYCLE_VERSION}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * Node's request timeouts from `limits`. Node checks them every
 * `connectionsCheckingInterval` (30 s by default, which would let a 15 s
 * headers timeout run to 45 s): checked here at a fifth of the shorter one.
 */
function timeoutOptions(limits: ServerLimits): http.ServerOptions {
  const headersTimeout = limits.headersTimeoutMs ?? DEFAULT_SERVER_LIMITS.headersTimeoutMs;
  const requestTimeout = limits.requestTimeoutMs ?? DEFAULT_SERVER_LIMITS.requestTimeoutMs;
  const shortest = Math.min(...[headersTimeout, requestTimeout].filter((t) => t > 0), 5_000);
  return {
    headersTimeout,
    requestTimeout,
    connectionsCheckingInterval: Math.max(10, Math.floor(shortest / 5)),
  };
}

export async function startServer(
  app: Express,
  addr: string,
  tls?: TlsFiles,
  limits: ServerLimits = {},
): Promise<RunningServer> {
  const { host, port } = splitAddr(addr);
  const secure = tlsEnabled(tls);
  const classes = { ...expressHttpClasses(app), ...timeoutOptions(limits) };
  const server = secure
    ? https.createServer(
        {
          ...classes,
          ...readTlsFiles(tls as TlsFiles),
          ...(tls?.caFile ? { requestCert: true, rejectUnauthorized: true } : {}),
        },
        app,
      )
    : http.createServer(classes, app);
  server.keepAliveTimeout = 65_000;
  const maxConnections = limits.maxConnections ?? DEFAULT_SERVER_LIMITS.maxConnections;
  if (maxConnections > 0) server.maxConnections = maxConnections;
  server.on('clientError', answerClientError);
  server.on('connect', refuseConnect);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    server,
    url: `${secure ? 'https' : 'http'}://${shownHost}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Connections still busy after a grace are cut so shutdown never hangs.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
    ...(secure
      ? { reloadTls: () => (server as https.Server).setSecureContext(readTlsFiles(tls as TlsFiles)) }
      : {}),
  };
}

/** A server's certificate, key and CA (when set) as node takes them (node's read errors name the file). */
function readTlsFiles(tls: TlsFiles): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: readFileSync(tls.certFile as string),
    key: readFileSync(tls.keyFile as string),
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
  };
}
