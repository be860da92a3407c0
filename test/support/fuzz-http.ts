/**
 * Raw HTTP for the fuzz and conformance tests: calls sent through node:http
 * so paths reach the server unnormalised (`..`, bad escapes), and the
 * properties every answer must have (no 5xx; a 4xx is the standard error body).
 */
import { Agent, request as httpRequest } from 'node:http';

export interface Answer {
  status: number;
  text: string;
  /** Response headers (lower-case names). */
  headers: Record<string, string>;
}

export interface Call {
  method: string;
  /** Sent as is (only bytes node refuses in a request line are percent-encoded). */
  path: string;
  body?: string | Buffer;
  /** `null`: no Content-Type header at all. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

export const agent = new Agent({ keepAlive: true, maxSockets: 2 });
const ANSWER_TIMEOUT_MS = 5_000;

/** encodeURIComponent that takes any string (a lone surrogate becomes U+FFFD first). */
export function enc(s: string): string {
  return encodeURIComponent(s.replace(/\p{Cs}/gu, '\ufffd'));
}

/** Percent-encode what node will not put in a request line (spaces, controls, non-ASCII); keep `%` garbage as sent. */
function rawPath(p: string): string {
  return p.replace(/[^\x21-\x7e]/gu, enc);
}

/** One HTTP call through node:http, so paths reach the server unnormalised (`..`, bad escapes). */
export function send(base: string, c: Call): Promise<Answer> {
  const url = new URL(base);
  const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body);
  const headers: Record<string, string> = { ...c.headers };
  if (c.contentType !== null) headers['Content-Type'] = c.contentType ?? 'application/json';
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    // An answer that never comes is a defect too (a hung request); the test would only time out.
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms: ${describeCall(c)}`));
    }, ANSWER_TIMEOUT_MS);
    const done = (status: number | undefined, chunks: Buffer[], h: Record<string, unknown> = {}) => {
      clearTimeout(timer);
      const headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
      resolve({ status: status ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers });
    };
    const failed = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: c.method, path: rawPath(c.path), headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => done(res.statusCode, chunks, res.headers));
        res.on('error', failed);
      },
    );
    // A CONNECT is answered through 'connect' (node hands over the socket, whatever the status).
    req.on('connect', (res, socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('end', () => done(res.statusCode, chunks));
      socket.on('error', failed);
    });
    req.on('error', failed);
    req.end(body);
  });
}

export function describeCall(c: Call): string {
  const body = c.body === undefined ? '(none)' : String(c.body).slice(0, 300);
  return `${c.method} ${c.path.slice(0, 300)} [Content-Type: ${c.contentType === null ? '(none)' : (c.contentType ?? 'application/json')}] body: ${body}`;
}

/** The properties every answer must have: no 5xx, and a 4xx is the standard error body naming the problem. */
export function checkAnswer(c: Call, a: Answer): void {
  const where = `${describeCall(c)}\n→ ${a.status} ${a.text.slice(0, 500)}`;
  if (a.status >= 500) throw new Error(`server error: ${where}`);
  if (a.status < 400) return;
  let body: { message?: unknown; httpStatus?: unknown; requestId?: unknown };
  try {
    body = JSON.parse(a.text);
  } catch {
    throw new Error(`4xx without a JSON body: ${where}`);
  }
  if (typeof body?.message !== 'string' || body.message === '')
    throw new Error(`4xx without a message: ${where}`);
  if (body.httpStatus !== a.status) throw new Error(`4xx whose httpStatus is not the status: ${where}`);
  if (typeof body.requestId !== 'string') throw new Error(`4xx without requestId: ${where}`);
}
