/**
 * Correlation across services with W3C Trace Context (`traceparent`). The
 * trace of the call being handled lives in an AsyncLocalStorage, so that log
 * lines written while handling it, and the calls made for it, carry its trace
 * id without passing it through every function. Here (not in service-kit)
 * because HttpClient puts it on outgoing calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/** Header name, lower case as node presents headers. */
export const TRACEPARENT_HEADER = 'traceparent';

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits: this hop's span. */
  spanId: string;
  /** 2 hex digits (`01`: sampled). */
  flags: string;
}

const storage = new AsyncLocalStorage<TraceContext | undefined>();

const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A `traceparent` header value as a context whose span is the caller's;
 * undefined when it is not one (the spec: version `ff`, all-zero ids, wrong
 * shape; version 00 takes nothing after the flags).
 */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  if (value === undefined || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.flags}`;
}

// Random bytes for ids taken from a pool filled 4 KiB at a time: every call
// handled and made needs a span id, and a crypto call per id was a measurable
// share of a busy RM's time.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/** `bytes` random bytes as lowercase hex, never all zero (which the spec reserves). */
function randomHex(bytes: number): string {
  for (;;) {
    if (poolAt + bytes > pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const hex = pool.toString('hex', poolAt, poolAt + bytes);
    poolAt += bytes;
    if (/[^0]/.test(hex)) return hex;
  }
}

/** The same trace with a new span id (a new hop: a handled call, an outgoing call). */
export function childSpan(ctx: TraceContext): TraceContext {
  return { traceId: ctx.traceId, spanId: randomHex(8), flags: ctx.flags };
}

/** A trace of its own (a call that came without one). */
export function newTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: '01' };
}

/** The trace of the work under way, if any. */
export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/** Run `fn` (and everything it starts) under `ctx`; undefined runs it outside any trace. */
export function runWithTrace<T>(ctx: TraceContext | undefined, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The `traceparent` for an outgoing call made now: the current trace with a new span; undefined outside a trace. */
export function outgoingTraceparent(): string | undefined {
  const ctx = storage.getStore();
  return ctx ? formatTraceparent(childSpan(ctx)) : undefined;
}
