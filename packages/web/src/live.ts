/**
 * Live updates of one request. The RM's Server-Sent Events stream
 * (`GET /api/v1/requests/{id}/events`) when it answers one, else polling. The stream is
 * read with fetch rather than EventSource because EventSource cannot send the bearer
 * token; it is parsed as EventSource would (id, retry, data, comments) and resumed with
 * Last-Event-ID. Every event only says "something changed": the page then re-reads
 * the request, so it does not depend on the events' payload.
 */
import { authHeaders, url } from './api.js';

export type LiveMode = 'connecting' | 'events' | 'polling' | 'idle';

export interface LiveOptions {
  requestId: string;
  /** Re-read the request; answers true once it is final (updates stop). */
  refresh: () => Promise<boolean>;
  onMode: (mode: LiveMode) => void;
  pollMs?: number;
}

/** Starts live updates; returns the function that stops them. */
export function follow(opts: LiveOptions): () => void {
  const pollMs = opts.pollMs ?? 2000;
  const abort = new AbortController();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;
  let busy = false;

  const stop = () => {
    stopped = true;
    abort.abort();
    clearTimeout(timer);
  };
  // Events come in bursts: one re-read at a time, and one more if events arrived meanwhile.
  const refresh = async (): Promise<void> => {
    if (busy) {
      pending = true;
      return;
    }
    busy = true;
    try {
      if (await opts.refresh()) {
        stop();
        opts.onMode('idle');
      }
    } catch {
      // the page shows the error; keep following
    } finally {
      busy = false;
    }
    if (pending && !stopped) {
      pending = false;
      await refresh();
    }
  };
  const poll = () => {
    opts.onMode('polling');
    const tick = async () => {
      await refresh();
      if (!stopped) timer = setTimeout(tick, pollMs);
    };
    timer = setTimeout(tick, pollMs);
  };

  const stream = async (lastId: string | undefined, retryMs: number): Promise<void> => {
    let res: Response;
    try {
      res = await fetch(url(`/api/v1/requests/${encodeURIComponent(opts.requestId)}/events`), {
        headers: {
          Accept: 'text/event-stream',
          ...authHeaders(),
          ...(lastId ? { 'Last-Event-ID': lastId } : {}),
        },
        signal: abort.signal,
        cache: 'no-store',
      });
    } catch {
      if (!stopped) poll();
      return;
    }
    const type = res.headers.get('Content-Type') ?? '';
    if (!res.ok || !res.body || !type.startsWith('text/event-stream')) {
      // 404/405: this RM has no events; 204: nothing more will come.
      await res.body?.cancel();
      if (stopped) return;
      if (res.status === 204) await refresh();
      else poll();
      return;
    }
    opts.onMode('events');
    await refresh(); // anything that happened before the stream opened
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    let data = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl = buf.search(/\r?\n/);
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(buf[nl] === '\r' ? nl + 2 : nl + 1);
          nl = buf.search(/\r?\n/);
          if (line === '') {
            if (data) void refresh();
            data = false;
          } else if (line.startsWith('id:')) lastId = line.slice(3).trim();
          else if (line.startsWith('retry:')) retryMs = Number(line.slice(6).trim()) || retryMs;
          else if (line.startsWith('data:')) data = true;
        }
      }
    } catch {
      // dropped; reconnect below
    }
    if (stopped) return;
    opts.onMode('connecting');
    timer = setTimeout(() => void stream(lastId, retryMs), retryMs);
  };

  opts.onMode('connecting');
  // Show the request at once; follow it only if it is not final yet.
  void refresh().then(() => {
    if (!stopped) void stream(undefined, 3000);
  });
  return stop;
}
