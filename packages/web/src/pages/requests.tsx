/** Requests: find with filters, paging, live refresh. Filters live in the URL (shareable). */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { fmtTime, localToRfc3339, runtime } from '../format.js';
import { navigate } from '../router.js';
import { Empty, ErrorState, Link, Progress, RequestState, useLoad } from '../ui.js';
import type { StateName } from '../wire.js';

const STATES: StateName[] = ['PENDING', 'RUNNING', 'SUSPENDED', 'COMPLETE', 'FAIL', 'STOPPED'];
const LIMITS = [25, 50, 100, 200];
const REFRESH_MS = 3000;

/** `2024-01-02T03:04:05.000Z` → the `datetime-local` input's local value. */
function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

export function RequestsPage({ search }: { search: string }) {
  const q = new URLSearchParams(search);
  const limit = Number(q.get('limit')) || 50;
  const offset = Number(q.get('offset')) || 0;
  const apiQuery = new URLSearchParams(q);
  apiQuery.set('limit', String(limit));
  if (offset) apiQuery.set('offset', String(offset));
  const found = useLoad(() => api.find(apiQuery), [apiQuery.toString()], REFRESH_MS);
  const types = useLoad(() => api.requestList(), []);

  const go = (next: URLSearchParams) => {
    for (const [k, v] of [...next.entries()]) if (v === '') next.delete(k, v);
    const s = next.toString();
    navigate(s ? `/?${s}` : '/');
  };
  const page = (off: number) => {
    const next = new URLSearchParams(q);
    next.set('offset', String(Math.max(0, off)));
    go(next);
  };

  const rows = found.data ?? [];
  return (
    <section aria-labelledby="requests-title">
      <div class="page-head">
        <h1 id="requests-title">Requests</h1>
        <Link href="/start" class="button primary">
          Start a request
        </Link>
      </div>
      <Filters key={search} q={q} types={types.data?.map((t) => t.Name) ?? []} onApply={go} />
      {found.error ? <ErrorState error={found.error} onRetry={found.reload} /> : null}
      {!found.error && !found.loading && rows.length === 0 ? (
        <Empty>
          No requests match. {offset > 0 ? 'Try an earlier page.' : 'Start one, or widen the filters.'}
        </Empty>
      ) : null}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="requests">
            <caption class="sr-only">Requests, newest first, refreshed every few seconds</caption>
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Type</th>
                <th scope="col">State</th>
                <th scope="col">User</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">Runtime</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-state={r.state}>
                  <td>
                    <Link href={`/requests/${encodeURIComponent(r.id)}`} class="mono">
                      {r.id}
                    </Link>
                  </td>
                  <td>{r.type}</td>
                  <td>
                    <RequestState state={r.state} />
                  </td>
                  <td>{r.user || '—'}</td>
                  <td>
                    <Progress done={r.finishedJobs} total={r.totalJobs} label={`progress of ${r.id}`} />
                  </td>
                  <td>{fmtTime(r.createdAt)}</td>
                  <td>{runtime(r)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="pages">
        <button type="button" disabled={offset === 0} onClick={() => page(offset - limit)}>
          ← Newer
        </button>
        <span>
          {rows.length > 0 ? `${offset + 1}–${offset + rows.length}` : '0'} · {limit} per page
        </span>
        <button type="button" disabled={rows.length < limit} onClick={() => page(offset + limit)}>
          Older →
        </button>
      </nav>
    </section>
  );
}

function Filters({
  q,
  types,
  onApply,
}: {
  q: URLSearchParams;
  types: string[];
  onApply: (q: URLSearchParams) => void;
}) {
  const [states, setStates] = useState(new Set((q.get('state') ?? '').split(',').filter(Boolean)));
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const next = new URLSearchParams();
    for (const k of ['type', 'user']) next.set(k, String(f.get(k) ?? '').trim());
    next.set('state', [...states].join(','));
    for (const k of ['since', 'until']) {
      const v = String(f.get(k) ?? '');
      next.set(k, v ? localToRfc3339(v) : '');
    }
    for (const line of String(f.get('args') ?? '').split(/[\n,]/)) {
      if (line.trim()) next.append('arg', line.trim());
    }
    next.set('limit', String(f.get('limit') ?? '50'));
    onApply(next);
  };
  const toggle = (s: string) => {
    const n = new Set(states);
    if (n.has(s)) n.delete(s);
    else n.add(s);
    setStates(n);
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="filter requests">
      <label>
        Type
        <select name="type">
          <option value="">any</option>
          {types.map((t) => (
            <option key={t} value={t} selected={t === q.get('type')}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        User
        <input name="user" defaultValue={q.get('user') ?? ''} autocomplete="off" />
      </label>
      <label>
        Since
        <input type="datetime-local" name="since" defaultValue={toLocalInput(q.get('since'))} />
      </label>
      <label>
        Until
        <input type="datetime-local" name="until" defaultValue={toLocalInput(q.get('until'))} />
      </label>
      <label>
        Args <span class="hint">(name=value, comma-separated)</span>
        <input
          name="args"
          defaultValue={q.getAll('arg').join(', ')}
          placeholder="host=db1"
          autocomplete="off"
        />
      </label>
      <label>
        Per page
        <select name="limit">
          {LIMITS.map((l) => (
            <option key={l} value={String(l)} selected={String(l) === (q.get('limit') ?? '50')}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <fieldset class="states">
        <legend>State</legend>
        {STATES.map((s) => (
          <label key={s} class={`chip tone-${s === 'SUSPENDED' ? 'retry' : s.toLowerCase()}`}>
            <input type="checkbox" checked={states.has(s)} onChange={() => toggle(s)} />
            {s}
          </label>
        ))}
      </fieldset>
      <div class="filter-actions">
        <button type="submit" class="primary">
          Find
        </button>
        <button type="button" onClick={() => onApply(new URLSearchParams())}>
          Clear
        </button>
      </div>
    </form>
  );
}
