/** How `log` prints job-log entries (shared with `log -f`). */
import { type JobLog, stateName, toNanos } from '@spincycle/protocol';
import { formatSeconds, formatTime, labelled, nanosTime } from './output.js';

export function sortLogs(logs: readonly JobLog[]): JobLog[] {
  return [...logs].sort((a, b) => {
    const d = toNanos(a.finishedAt) - toNanos(b.finishedAt);
    return d < 0n ? -1 : d > 0n ? 1 : a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : a.try - b.try;
  });
}

/** Output text of a job, indented under its label when it spans lines. */
function block(text: string): string {
  const t = text.replace(/\s+$/, '');
  if (!t.includes('\n')) return t;
  return `\n${t
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}`;
}

export function formatLog(l: JobLog): string[] {
  const started = nanosTime(l.startedAt);
  const finished = nanosTime(l.finishedAt);
  const runtime = started && finished ? formatSeconds(toNanos(l.finishedAt) - toNanos(l.startedAt)) : '';
  return labelled([
    ['job id', l.jobId],
    ['job name', l.name],
    ['job type', l.type],
    ['state', stateName(l.state)],
    ['exit', String(l.exit)],
    ['error', block(l.error ?? '')],
    ['try', String(l.try)],
    ['runtime', runtime],
    ['started', started ? formatTime(started, 'utc', true) : ''],
    ['finished', finished ? formatTime(finished, 'utc', true) : ''],
    ['stdout', block(l.stdout ?? '')],
    ['stderr', block(l.stderr ?? '')],
  ]);
}
