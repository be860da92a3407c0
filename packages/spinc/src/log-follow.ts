/**
 * `log -f <id>`: print a request's job-log entries as they are stored, until
 * the request ends: from the RM's live events, else by polling the job log.
 * With --json, one entry per line (NDJSON), exactly as the RM sent it.
 */
import { isFinalState, type JobLog, parseJsonText, stringifyJson } from '@spincycle/protocol';
import type { Context } from './context.js';
import { ExitCode } from './errors.js';
import { openEvents } from './events.js';
import { formatLog, sortLogs } from './log-format.js';

export async function followLog(ctx: Context, id: string): Promise<number> {
  const seen = new Set<string>();
  const print = (entry: JobLog, raw?: string) => {
    const key = `${entry.jobId}\u0000${entry.try}`;
    if (seen.has(key)) return;
    if (ctx.opts.json) ctx.out(raw ?? stringifyJson(entry));
    else {
      if (seen.size > 0) ctx.out('--');
      for (const line of formatLog(entry)) ctx.out(line);
    }
    seen.add(key);
  };
  const events = await openEvents(ctx, id).catch(() => undefined);
  if (events) {
    for await (const e of events) {
      if (e.event === 'log') print(parseJsonText(e.data) as JobLog, e.data);
      if (e.event === 'final') return ExitCode.OK;
    }
  }
  // No events here (or the stream gave up): poll. The request is read before its log,
  // so once it is final every entry it will ever have is in the log read after it.
  for (;;) {
    const req = await ctx.api((rm) => rm.getRequest(id));
    for (const l of sortLogs(await ctx.api((rm) => rm.getJobLogs(id)))) print(l);
    if (isFinalState(req.state)) return ExitCode.OK;
    await new Promise((r) => setTimeout(r, ctx.io.pollMaxMs ?? 1000));
  }
}
