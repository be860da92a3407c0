/** Job Runners: what the RM knows from their heartbeats, with the jobs running on each. */
import { api } from '../api.js';
import { ago, fmtTime } from '../format.js';
import { Empty, ErrorState, Link, useLoad } from '../ui.js';
import type { JobRunnerInfo, RunningStatus } from '../wire.js';

const REFRESH_MS = 3000;

export function RunnersPage() {
  const data = useLoad(
    async (): Promise<{ runners: JobRunnerInfo[]; running: RunningStatus | undefined }> => {
      const [runners, running] = await Promise.all([
        api.jobRunners(),
        api.allRunning().catch(() => undefined),
      ]);
      return { runners, running };
    },
    [],
    REFRESH_MS,
  );
  const runners = data.data?.runners ?? [];
  const jobsOn = new Map<string, number>();
  const requestsOn = new Map<string, string[]>();
  const running = data.data?.running;
  if (running) {
    for (const [id, r] of Object.entries(running.requests ?? {})) {
      const jr = r.jrURL ?? '';
      requestsOn.set(jr, [...(requestsOn.get(jr) ?? []), id]);
      jobsOn.set(jr, (jobsOn.get(jr) ?? 0) + running.jobs.filter((j) => j.requestId === id).length);
    }
  }
  return (
    <section aria-labelledby="runners-title">
      <h1 id="runners-title">Job Runners</h1>
      {data.error ? <ErrorState error={data.error} onRetry={data.reload} /> : null}
      {!data.error && !data.loading && runners.length === 0 && (
        <Empty>No Job Runner has sent a heartbeat to this Request Manager yet.</Empty>
      )}
      {runners.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Job Runners, refreshed every few seconds</caption>
            <thead>
              <tr>
                <th scope="col">Job Runner</th>
                <th scope="col">Status</th>
                <th scope="col">Chains held</th>
                <th scope="col">Running jobs</th>
                <th scope="col">Last heartbeat</th>
                <th scope="col">Started</th>
                <th scope="col">Requests</th>
              </tr>
            </thead>
            <tbody>
              {runners.map((r) => (
                <tr key={`${r.jrURL} ${r.instance}`} data-live={String(r.live)}>
                  <td class="mono">
                    {r.jrURL}
                    <div class="hint">instance {r.instance}</div>
                  </td>
                  <td>
                    <span class={`badge tone-${r.live ? (r.draining ? 'retry' : 'complete') : 'fail'}`}>
                      {r.live ? (r.draining ? 'draining' : 'live') : 'lost'}
                    </span>
                  </td>
                  <td>{r.chains}</td>
                  <td>{jobsOn.get(r.jrURL) ?? 0}</td>
                  <td title={fmtTime(r.lastSeen)}>{ago(r.lastSeen)}</td>
                  <td>{fmtTime(r.startedAt)}</td>
                  <td>
                    {(requestsOn.get(r.jrURL) ?? []).slice(0, 10).map((id) => (
                      <div key={id}>
                        <Link href={`/requests/${encodeURIComponent(id)}`} class="mono">
                          {id}
                        </Link>
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {running?.unreachable && running.unreachable.length > 0 && (
        <div class="error-state" role="alert">
          <h2>Unreachable Job Runners</h2>
          <ul>
            {running.unreachable.map((u) => (
              <li key={u.jrURL}>
                <span class="mono">{u.jrURL}</span>: {u.error}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
