/** One request: header, live DAG, job details, stop and retry. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, hasRetry } from '../api.js';
import { structureOf } from '../collapse.js';
import { Dag } from '../dag.js';
import { fmtTime, runtime } from '../format.js';
import { liveStates, triesByJob } from '../job-state.js';
import { follow, type LiveMode } from '../live.js';
import { Confirm, ErrorState, Progress, RequestState } from '../ui.js';
import { type Chain, isFinal, type Log, type Request, State } from '../wire.js';
import { JobPanel } from './job-panel.js';

const LONG_ARG = 160;

/** Long values (a 1,000-host list) are clipped, with the whole value one click away. */
function ArgValue({ value }: { value: string }) {
  if (value.length <= LONG_ARG) return <>{value}</>;
  return (
    <details>
      <summary>
        {value.slice(0, LONG_ARG)}… ({value.length} characters)
      </summary>
      {value}
    </details>
  );
}

const MODE_TEXT: Record<LiveMode, string> = {
  connecting: 'connecting…',
  events: 'live (events)',
  polling: 'live (polling every 2 s)',
  idle: 'final',
};

export function RequestPage({ id }: { id: string }) {
  const [req, setReq] = useState<Request>();
  const [chain, setChain] = useState<Chain>();
  const [logs, setLogs] = useState<Log[]>([]);
  const [running, setRunning] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<unknown>();
  const [mode, setMode] = useState<LiveMode>('connecting');
  const [selected, setSelected] = useState<string>();
  const [confirmStop, setConfirmStop] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const [retryable, setRetryable] = useState(false);
  const [reloadKey, setReloadKey] = useState(0);

  useEffect(() => {
    setReq(undefined);
    setChain(undefined);
    setError(undefined);
    let first = true;
    const refresh = async (): Promise<boolean> => {
      try {
        const r = await api.request(id);
        const isRunning = r.state === State.RUNNING;
        const [l, st] = await Promise.all([
          api.log(id),
          isRunning ? api.running(id).catch(() => undefined) : Promise.resolve(undefined),
        ]);
        // The chain never changes: keep the first one so the layout is not redone.
        if (first && r.JobChain) setChain(r.JobChain);
        first = false;
        setReq(r);
        setLogs(l ?? []);
        setRunning(new Set((st?.jobs ?? []).filter((j) => j.requestId === id).map((j) => j.jobId)));
        setError(undefined);
        return isFinal(r.state);
      } catch (err) {
        setError(err);
        // A missing request will not appear: stop following.
        return err instanceof ApiError && err.status === 404;
      }
    };
    return follow({ requestId: id, refresh, onMode: setMode });
  }, [id, reloadKey]);

  useEffect(() => {
    // The RM retries FAIL and STOPPED requests (POST …/retry).
    if (req?.state === State.FAIL || req?.state === State.STOPPED) void hasRetry(id).then(setRetryable);
    else setRetryable(false);
  }, [id, req?.state]);

  const requestRunning = req?.state === State.RUNNING;
  const structure = useMemo(() => (chain ? structureOf(chain) : undefined), [chain]);
  const states = useMemo(
    () => (chain ? liveStates(chain.jobs, logs, running, requestRunning) : new Map()),
    [chain, logs, running, requestRunning],
  );
  const tries = useMemo(() => triesByJob(logs), [logs]);

  if (!req) {
    return error ? <ErrorState error={error} onRetry={() => setReloadKey(reloadKey + 1)} /> : <p>Loading…</p>;
  }
  const stoppable =
    req.state === State.RUNNING || req.state === State.PENDING || req.state === State.SUSPENDED;
  const stop = async () => {
    setConfirmStop(false);
    try {
      await api.stop(id);
      setActionError(undefined);
      setReloadKey(reloadKey + 1);
    } catch (err) {
      setActionError(err);
    }
  };
  const retry = async () => {
    try {
      await api.retry(id);
      setActionError(undefined);
      setReloadKey(reloadKey + 1);
    } catch (err) {
      setActionError(err);
    }
  };
  const selectedJob = selected && chain ? chain.jobs[selected] : undefined;

  return (
    <section aria-labelledby="request-title" class="request-page">
      <div class="page-head">
        <h1 id="request-title">
          {req.type} <span class="mono muted">{req.id}</span> <RequestState state={req.state} />
        </h1>
        <div class="actions">
          <span class="live" aria-live="polite">
            {MODE_TEXT[mode]}
          </span>
          {stoppable && (
            <button type="button" class="danger" onClick={() => setConfirmStop(true)}>
              Stop
            </button>
          )}
          {retryable && (
            <button type="button" onClick={retry}>
              Retry
            </button>
          )}
        </div>
      </div>
      {error ? <ErrorState error={error} /> : null}
      {actionError ? <ErrorState error={actionError} /> : null}
      <div class="header-grid">
        <dl class="facts">
          <dt>User</dt>
          <dd>{req.user || '—'}</dd>
          <dt>Created</dt>
          <dd>{fmtTime(req.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{fmtTime(req.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{fmtTime(req.finishedAt)}</dd>
          <dt>Runtime</dt>
          <dd>{runtime(req)}</dd>
          <dt>Job Runner</dt>
          <dd class="mono">{req.jrURL || '—'}</dd>
          <dt>Progress</dt>
          <dd>
            <Progress done={req.finishedJobs} total={req.totalJobs} />
          </dd>
        </dl>
        <table class="args">
          <caption>Arguments</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Kind</th>
            </tr>
          </thead>
          <tbody>
            {(req.args ?? []).map((a) => (
              <tr key={a.Name}>
                <th scope="row" title={a.Desc}>
                  {a.Name}
                </th>
                <td class="mono">
                  <ArgValue value={typeof a.Value === 'string' ? a.Value : JSON.stringify(a.Value)} />
                </td>
                <td>
                  {a.Type}
                  {a.Type === 'optional' && !a.Given ? ' (default)' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class={selectedJob ? 'dag-and-panel with-panel' : 'dag-and-panel'}>
        {structure && chain ? (
          <Dag
            structure={structure}
            jobs={chain.jobs}
            states={states}
            requestRunning={requestRunning}
            selected={selected}
            onSelect={setSelected}
          />
        ) : (
          <p class="empty">This request has no job chain yet.</p>
        )}
        {selectedJob && (
          <JobPanel
            job={selectedJob}
            state={states.get(selectedJob.id) ?? 'pending'}
            tries={tries.get(selectedJob.id) ?? []}
            onClose={() => setSelected(undefined)}
          />
        )}
      </div>
      <Confirm
        open={confirmStop}
        title={`Stop request ${req.id}?`}
        confirmLabel="Stop request"
        onConfirm={stop}
        onCancel={() => setConfirmStop(false)}
      >
        <p>Running jobs are stopped and the request ends as STOPPED. This cannot be undone.</p>
      </Confirm>
    </section>
  );
}
