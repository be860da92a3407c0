/**
 * Services that run without credentials are only safe on the loopback
 * interface, and even there a web page in the operator's browser can reach
 * them by DNS rebinding (a name of the attacker's that resolves to
 * 127.0.0.1): such calls still carry the attacker's name in `Host`, so an
 * unauthenticated service answers only calls addressed to a loopback name.
 */
import { isIP } from 'node:net';
import { SpinCycleError } from '@spincycle/protocol';
import type { RequestHandler } from 'express';
import { splitAddr } from './server.js';

/** A call addressed to a name this service does not answer to (HTTP 403). */
export class ForbiddenHostError extends SpinCycleError {
  override readonly httpStatus: number = 403;
  override readonly code: string = 'forbidden_host';
}

/** Whether a host name or address (no port; IPv6 with or without brackets) is loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Whether `server.addr` (host:port; an empty host means 127.0.0.1) listens on loopback only. */
export function isLoopbackAddr(addr: string): boolean {
  return isLoopbackHost(splitAddr(addr).host);
}

/** The host of a `Host` header value (`name`, `name:port`, `[v6]:port`). */
function hostOfHeader(value: string): string {
  const v = value.trim();
  if (v.startsWith('[')) return v.slice(0, v.indexOf(']') + 1);
  return v.replace(/:\d*$/, '');
}

/**
 * Middleware: 403 for a call whose `Host` is not a loopback name. A call
 * without `Host` (HTTP/1.0 tools) is let through: browsers always send one.
 */
export function loopbackHostGuard(service: string): RequestHandler {
  // Callers send the same few Host values: the last one allowed is remembered.
  let allowed: string | undefined;
  return (req, _res, next) => {
    const host = req.headers.host;
    if (host === undefined || host === allowed) return next();
    if (isLoopbackHost(hostOfHeader(host))) {
      allowed = host;
      return next();
    }
    next(
      new ForbiddenHostError(
        `Host '${host.slice(0, 100)}' refused: this ${service} runs without credentials and answers only calls to localhost, 127.0.0.1 or [::1]`,
      ),
    );
  };
}
