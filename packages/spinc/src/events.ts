/**
 * The RM's live events of a request (`GET /api/v1/requests/{id}/events`,
 * Server-Sent Events), read through the client's own HTTP stack so the token
 * and TLS options apply. Reconnects with Last-Event-ID when a stream ends
 * before `final` (an RM restart, the stream's time limit). `undefined` from
 * `openEvents` means this RM has no events (404/405 on the route): callers poll.
 */
import type { Readable } from 'node:stream';
import type { Context } from './context.js';

interface RmEvent {
  id: string;
  event: string;
  data: string;
}

type Stream = AsyncGenerator<RmEvent, void, void>;

async function open(ctx: Context, id: string, lastId: string | undefined): Promise<Readable | number> {
  const res = await ctx.client.http.http.get(`/api/v1/requests/${encodeURIComponent(id)}/events`, {
    responseType: 'stream',
    timeout: 0,
    headers: { Accept: 'text/event-stream', ...(lastId ? { 'Last-Event-ID': lastId } : {}) },
    validateStatus: () => true,
  });
  const body = res.data as Readable;
  if (res.status !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    body.destroy();
    return res.status;
  }
  return body;
}

async function* parse(body: Readable): Stream {
  let buf = '';
  let cur: RmEvent = { id: '', event: 'message', data: '' };
  for await (const chunk of body) {
    buf += String(chunk);
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      if (line === '') {
        if (cur.data !== '') yield cur;
        cur = { id: cur.id, event: 'message', data: '' };
      } else if (line.startsWith('id:')) cur.id = line.slice(3).trim();
      else if (line.startsWith('event:')) cur.event = line.slice(6).trim();
      else if (line.startsWith('data:')) cur.data += line.slice(5).trim();
    }
  }
}

/**
 * The request's events until `final` (included), reconnecting as needed;
 * undefined when the RM does not serve events.
 */
export async function openEvents(ctx: Context, id: string): Promise<Stream | undefined> {
  const first = await open(ctx, id, undefined);
  if (typeof first === 'number') {
    ctx.debug(`events of ${id}: HTTP ${first}; polling instead`);
    return undefined;
  }
  return (async function* (): Stream {
    let body: Readable | number = first;
    let lastId: string | undefined;
    for (let attempt = 0; ; attempt++) {
      if (typeof body !== 'number') {
        try {
          for await (const e of parse(body)) {
            lastId = e.id || lastId;
            attempt = 0;
            yield e;
            if (e.event === 'final') return;
          }
        } catch (err) {
          ctx.debug(`event stream of ${id} dropped: ${(err as Error).message}`);
        }
      }
      // 204: nothing more will come; give up after a few failed reconnects.
      if (body === 204 || attempt >= 5) return;
      await new Promise((r) => setTimeout(r, Math.min(3000, 250 * 2 ** attempt)));
      body = await open(ctx, id, lastId).catch(() => 0);
    }
  })();
}
