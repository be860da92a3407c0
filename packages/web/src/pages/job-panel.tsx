/** One job: its definition and every try from the job log. */
import { fmtDuration, fmtNs, nsToMs } from '../format.js';
import { type LiveState, requestTone } from '../job-state.js';
import { JobStateBadge } from '../ui.js';
import { type Job, type Log, stateName } from '../wire.js';

export function JobPanel(props: { job: Job; state: LiveState; tries: Log[]; onClose: () => void }) {
  const { job, tries } = props;
  return (
    <aside class="job-panel" aria-labelledby="job-title">
      <div class="page-head">
        <h2 id="job-title">
          {job.name} <JobStateBadge state={props.state} />
        </h2>
        <button type="button" onClick={props.onClose} aria-label="close job details">
          ✕
        </button>
      </div>
      <dl class="facts">
        <dt>Job id</dt>
        <dd class="mono">{job.id}</dd>
        <dt>Type</dt>
        <dd>{job.type}</dd>
        <dt>Retries</dt>
        <dd>
          {job.retry}
          {job.retryWait ? ` (wait ${job.retryWait})` : ''}
        </dd>
        {job.args && Object.keys(job.args).length > 0 && (
          <>
            <dt>Args</dt>
            <dd>
              <pre class="mono small">{JSON.stringify(job.args, null, 2)}</pre>
            </dd>
          </>
        )}
      </dl>
      <h3>Tries</h3>
      {tries.length === 0 ? (
        <p class="empty">No tries yet: the job has not finished a run.</p>
      ) : (
        <ol class="tries">
          {[...tries].reverse().map((t) => (
            <li key={t.try} class="try" data-try={t.try}>
              <div class="try-head">
                <strong>Try {t.try}</strong>{' '}
                <span class={`badge tone-${requestTone(t.state)}`}>{stateName(t.state)}</span>
                <span>exit {t.exit}</span>
                <span>
                  {fmtNs(t.startedAt)} · {fmtDuration(nsToMs(t.finishedAt - t.startedAt))}
                </span>
              </div>
              {t.error && (
                <div class="try-error" role="note">
                  <strong>Error:</strong> <span class="mono">{t.error}</span>
                </div>
              )}
              <Output name="stdout" text={t.stdout} />
              <Output name="stderr" text={t.stderr} />
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}

function Output({ name, text }: { name: string; text: string }) {
  return (
    <details open={text.length > 0} class="output">
      <summary>
        {name} {text.length === 0 ? '(empty)' : `(${text.length} chars)`}
      </summary>
      {text.length > 0 && (
        <pre class="mono" data-stream={name}>
          {text}
        </pre>
      )}
    </details>
  );
}
