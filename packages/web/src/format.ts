/** Display formatting shared by the pages. */

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function fmtDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

/** Runtime of a request: started to finished, or to now while it runs. */
export function runtime(
  r: { startedAt: string | null; finishedAt: string | null },
  now = Date.now(),
): string {
  if (!r.startedAt) return '—';
  const end = r.finishedAt ? Date.parse(r.finishedAt) : now;
  return fmtDuration(end - Date.parse(r.startedAt));
}

/** Nanoseconds since the epoch (job log) → milliseconds. */
export const nsToMs = (ns: number) => ns / 1e6;

export function fmtNs(ns: number): string {
  return ns > 0 ? new Date(nsToMs(ns)).toLocaleString() : '—';
}

export function ago(iso: string, now = Date.now()): string {
  return `${fmtDuration(now - Date.parse(iso))} ago`;
}

/** `datetime-local` value (local time) → RFC 3339 for the API. */
export function localToRfc3339(v: string): string {
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
