/** A tiny in-process stand-in for the RM API, for testing spinc without the real services. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import type { SpincIO } from '../src/context.js';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Reply {
  status?: number;
  /** Object → JSON; string → sent as-is; undefined → empty body. */
  body?: unknown;
  contentType?: string;
}

export type Handler = (call: Call) => Reply | undefined;

export class FakeRm {
  readonly calls: Call[] = [];
  private server!: Server;
  url = '';
  constructor(public handler: Handler) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const call: Call = {
          method: req.method ?? '',
          path: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          body,
        };
        this.calls.push(call);
        const reply = this.handler(call) ?? { status: 404, body: { message: 'Not Found' } };
        const status = reply.status ?? 200;
        if (reply.body === undefined) {
          res.writeHead(status).end();
        } else if (typeof reply.body === 'string') {
          res.writeHead(status, { 'Content-Type': reply.contentType ?? 'text/plain' }).end(reply.body);
        } else {
          res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(reply.body));
        }
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}`;
    return this;
  }

  calledWith(method: string, path: string): Call[] {
    return this.calls.filter((c) => c.method === method && c.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run spinc in-process with captured output; `input` lines feed stdin (then end of input). */
export async function runCaptured(
  run: (argv: string[], io: SpincIO) => Promise<number>,
  argv: string[],
  opts: { env?: Record<string, string>; input?: string; interactive?: boolean; stdoutTTY?: boolean } = {},
): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  if (opts.input !== undefined) stdin.end(opts.input);
  const code = await run(argv, {
    stdin,
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.stdoutTTY ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: { HOME: '/nonexistent-home', ...opts.env },
    interactive: opts.interactive ?? false,
    systemConfigFile: '/nonexistent/spinc.yaml',
    pollMaxMs: 20,
  });
  stdin.destroy();
  return { code, stdout, stderr };
}
