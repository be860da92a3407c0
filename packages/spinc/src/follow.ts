/** Following a request to its end (`start --wait`, `wait`): progress display and the exit code. */
import {
  isFinalState,
  type JobLog,
  type Request,
  retryWithBackoff,
  State,
  type StateValue,
  stateName,
} from '@spincycle/protocol';
import type { Context, OutStream } from './context.js';
import { ExitCode } from './errors.js';
import { openEvents } from './events.js';
import { formatDuration, formatTime, progressPercent, wireTime } from './output.js';

/** Exit code for the state a followed request ended in. */
export function exitCodeForState(state: StateValue): number {
  if (state === State.COMPLETE) return ExitCode.OK;
  if (state === State.FAIL) return ExitCode.FAIL;
  if (state === State.STOPPED) return ExitCode.STOPPED;
  return ExitCode.ERROR;
}

/** A hand-drawn bar: `[##########----------]  50%`. */
export function progressBar(percent: number, width = 30): string {
  const p = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
  const filled = Math.round((p / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(p).padStart(3)}%`;
}

/** Runtime of a request: finished − started, or now − started while it runs. */
export function requestRuntime(req: Request, now: Date): string {
  const started = wireTime(req.startedAt);
  if (!started) return 'not started';
  const finished = wireTime(req.finishedAt);
  return formatDuration((finished ?? now).getTime() - started.getTime());
}

function progressLine(req: Request, now: Date): string {
  const pct = progressPercent(req.finishedJobs, req.totalJobs, req.state);
  return `${formatTime(now)} ${req.id} ${stateName(req.state)} ${req.finishedJobs}/${req.totalJobs} jobs ${pct}% ${requestRuntime(req, now)}`;
}

/** Thrown by one poll of a request that has not ended yet: the poll is made again after a wait. */
class NotFinalYet extends Error {}

/**
 * Follow the request until it is COMPLETE, FAIL or STOPPED (a SUSPENDED request
 * is waited for: it is resumed later): through the RM's live events when it
 * serves them, else by polling, 100 ms apart at first, the wait doubling up to
 * `pollMaxMs` (default 1 s). Progress goes to `out`: a bar redrawn in place
 * when it is a terminal, else one line whenever state or progress changes. A
 * failing call ends the follow (the API client has already retried it).
 */
export async function follow(ctx: Context, id: string, out: OutStream): Promise<Request> {
  const bar = out.isTTY === true;
  let last = '';
  let drawn = false;
  const draw = (req: Request) => {
    const now = ctx.now();
    if (bar) {
      const pct = progressPercent(req.finishedJobs, req.totalJobs, req.state);
      const line = `${progressBar(pct)}  ${stateName(req.state).padEnd(9)} ${req.finishedJobs}/${req.totalJobs} jobs  ${requestRuntime(req, now)}`;
      out.write(`\r${line}\u001b[K`);
      drawn = true;
    } else {
      const key = `${req.state}/${req.finishedJobs}/${req.totalJobs}`;
      if (key !== last) {
        out.write(`${progressLine(req, now)}\n`);
        last = key;
      }
    }
  };
  try {
    const viaEvents = await followEvents(ctx, id, draw);
    if (viaEvents) return viaEvents;
    return await retryWithBackoff(
      async () => {
        const req = await ctx.api((rm) => rm.getRequest(id));
        draw(req);
        if (!isFinalState(req.state)) throw new NotFinalYet();
        return req;
      },
      {
        baseDelayMs: 100,
        maxDelayMs: ctx.io.pollMaxMs ?? 1000,
        shouldRetry: (err) => err instanceof NotFinalYet,
      },
    );
  } finally {
    if (drawn) out.write('\n');
  }
}

/** Follow through live events; undefined when the RM has none or the stream ended early (then poll). */
async function followEvents(
  ctx: Context,
  id: string,
  draw: (req: Request) => void,
): Promise<Request | undefined> {
  const events = await openEvents(ctx, id).catch(() => undefined);
  if (!events) return undefined;
  let req: Request | undefined;
  for await (const e of events) {
    if (e.event === 'state' || e.event === 'final') req = JSON.parse(e.data) as Request;
    else if (e.event === 'progress' && req)
      req = { ...req, finishedJobs: (JSON.parse(e.data) as { finishedJobs: number }).finishedJobs };
    else continue;
    draw(req);
    if (e.event === 'final') return req;
  }
  return undefined;
}

/** The failed job tries of a request (latest try per job), for the end-of-wait report. */
export function failedJobs(logs: readonly JobLog[]): JobLog[] {
  const latest = new Map<string, JobLog>();
  for (const l of logs) {
    const prev = latest.get(l.jobId);
    if (!prev || l.try >= prev.try) latest.set(l.jobId, l);
  }
  return [...latest.values()].filter((l) => l.state !== State.COMPLETE && l.state !== State.STOPPED);
}

/** Report how a followed request ended; returns the exit code. */
export async function reportEnd(ctx: Context, req: Request): Promise<number> {
  const code = exitCodeForState(req.state);
  const now = ctx.now();
  if (!ctx.opts.json) {
    ctx.out(
      `${req.id} ${stateName(req.state)}: ${req.finishedJobs}/${req.totalJobs} jobs, runtime ${requestRuntime(req, now)}`,
    );
  }
  if (req.state === State.FAIL) {
    // CI logs should say why: the failed jobs' errors and the tail of their stderr.
    try {
      const logs = await ctx.api((rm) => rm.getJobLogs(req.id));
      for (const l of failedJobs(logs)) {
        ctx.err(
          `spinc: job ${l.name} (${l.jobId}, ${l.type}) try ${l.try}: ${stateName(l.state)}, exit ${l.exit}${l.error ? `: ${l.error}` : ''}`,
        );
        const tail = l.stderr.trimEnd().split('\n').slice(-5);
        if (l.stderr.trim() !== '') for (const t of tail) ctx.err(`  stderr: ${t}`);
      }
    } catch (err) {
      ctx.debug(`could not read the job log: ${(err as Error).message}`);
    }
    ctx.err(`spinc: request ${req.id} failed; see 'spinc log ${req.id}'`);
  } else if (req.state === State.STOPPED) {
    ctx.err(`spinc: request ${req.id} was stopped`);
  }
  return code;
}
