/** Start an HTTP or HTTPS server on `host:port` and report the URL it is reachable at. */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

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
}

export function splitAddr(addr: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m) throw new Error(`server.addr '${addr}' must be host:port`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export function tlsEnabled(tls: TlsFiles | undefined): boolean {
  return Boolean(tls?.certFile && tls.keyFile);
}

export async function startServer(app: Express, addr: string, tls?: TlsFiles): Promise<RunningServer> {
  const { host, port } = splitAddr(addr);
  const secure = tlsEnabled(tls);
  const server = secure
    ? https.createServer(
        {
          cert: readFileSync(tls?.certFile as string),
          key: readFileSync(tls?.keyFile as string),
          ...(tls?.caFile
            ? { ca: readFileSync(tls.caFile), requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        app,
      )
    : http.createServer(app);
  server.keepAliveTimeout = 65_000;
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
  };
}
