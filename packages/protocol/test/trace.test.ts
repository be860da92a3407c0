import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpClient } from '../src/http.js';
import {
  childSpan,
  currentTrace,
  formatTraceparent,
  newTrace,
  parseTraceparent,
  runWithTrace,
} from '../src/trace.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent', () => {
  it('parses a W3C traceparent and writes it back', () => {
    const ctx = parseTraceparent(`00-${TRACE}-${SPAN}-01`);
    expect(ctx).toEqual({ traceId: TRACE, spanId: SPAN, flags: '01' });
    expect(formatTraceparent(ctx as NonNullable<typeof ctx>)).toBe(`00-${TRACE}-${SPAN}-01`);
    // A later version may add fields.
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-more`)?.traceId).toBe(TRACE);
  });

  it.each([
    ['empty', ''],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper case', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version 00 with more fields', `00-${TRACE}-${SPAN}-01-x`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
  ])('refuses %s', (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('a child span keeps the trace and gets a new span id; a new trace is well formed', () => {
    const parent = newTrace();
    expect(formatTraceparent(parent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const child = childSpan(parent);
    expect(child.traceId).toBe(parent.traceId);
    expect(child.spanId).not.toBe(parent.spanId);
  });

  it('HttpClient sends the current trace with a new span, and nothing outside a trace', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new HttpClient({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    try {
      const ctx = { traceId: TRACE, spanId: SPAN, flags: '01' };
      await runWithTrace(ctx, async () => {
        expect(currentTrace()).toBe(ctx);
        await client.call('GET', '/');
      });
      await client.call('GET', '/');
    } finally {
      server.close();
    }
    const sent = parseTraceparent(seen[0]?.traceparent as string);
    expect(sent?.traceId).toBe(TRACE);
    expect(sent?.spanId).not.toBe(SPAN);
    expect(seen[1]?.traceparent).toBeUndefined();
  });
});
