/** Reads a Server-Sent Events stream to its end (or `stopAfter` events), parsed as EventSource would. */
export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

export interface SseRead {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: string[];
}

export async function readSse(
  url: string,
  opts: { lastEventId?: string; headers?: Record<string, string>; stopAfter?: (e: SseEvent) => boolean } = {},
): Promise<SseRead> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: {
      Accept: 'text/event-stream',
      ...(opts.lastEventId ? { 'Last-Event-ID': opts.lastEventId } : {}),
      ...opts.headers,
    },
    signal: abort.signal,
  });
  const out: SseRead = { status: res.status, headers: res.headers, events: [], comments: [] };
  if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    return out;
  }
  const decoder = new TextDecoder();
  let buf = '';
  let cur: SseEvent = { id: '', event: 'message', data: '' };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (line === '') {
          if (cur.data !== '') {
            out.events.push(cur);
            if (opts.stopAfter?.(cur)) {
              abort.abort();
              return out;
            }
          }
          cur = { id: cur.id, event: 'message', data: '' };
        } else if (line.startsWith(':')) out.comments.push(line.slice(1).trim());
        else if (line.startsWith('id:')) cur.id = line.slice(3).trim();
        else if (line.startsWith('event:')) cur.event = line.slice(6).trim();
        else if (line.startsWith('data:')) cur.data += line.slice(5).trim();
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  }
  return out;
}
