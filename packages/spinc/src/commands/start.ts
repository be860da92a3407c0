/**
 * `start <request> [name=value ...]`: create and start a request. Prompts only
 * on a terminal; otherwise missing required args are a usage error and nothing
 * is created. `--wait` follows the request to its end.
 */
import type { RequestSpec } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode, SpincError, UsageError } from '../errors.js';
import { follow, reportEnd } from '../follow.js';
import { Prompter } from '../prompt.js';
import {
  checkUnknownArgs,
  createArgs,
  defaultText,
  missingRequired,
  parseArgTokens,
  shownArgs,
  startCommandLine,
  userArgs,
} from '../request-args.js';
import { planTree } from './plan-tree.js';

const NO_WORDS = new Set(['n', 'no', 'abort', 'q', 'quit']);

export function missingArgsMessage(request: string, missing: readonly string[]): string {
  const example = missing.map((m) => `${m}=...`).join(' ');
  return `missing required args for request ${request}: ${missing.join(', ')}. Give them on the command line (spinc start ${request} ${example}); 'spinc help ${request}' lists the args.`;
}

/** Ask for missing args and the confirmation; returns when the user said ok. */
async function promptArgs(
  ctx: Context,
  spec: RequestSpec,
  values: Map<string, string>,
  noneGiven: boolean,
): Promise<void> {
  const prompter = new Prompter(
    ctx.io.stdin,
    ctx.io.stdout,
    ctx.io.stdin.isTTY === true && ctx.io.stdout.isTTY === true,
  );
  const ask = async (prompt: string): Promise<string> => {
    const answer = await prompter.ask(prompt);
    if (answer === null) {
      ctx.out();
      throw new SpincError('aborted at end of input: nothing was started', ExitCode.ERROR);
    }
    if (answer === 'interrupt') {
      ctx.out();
      throw new SpincError('aborted: nothing was started', ExitCode.INTERRUPTED);
    }
    return answer.trim();
  };
  try {
    const { required, optional } = userArgs(spec);
    for (const a of required) {
      if ((values.get(a.Name) ?? '') !== '') continue;
      ctx.out();
      ctx.out(`# ${a.Desc}`);
      for (;;) {
        const v = await ask(`${a.Name}=`);
        if (v !== '') {
          values.set(a.Name, v);
          break;
        }
        ctx.out(`# Value required for ${a.Name}`);
      }
    }
    if (noneGiven) {
      for (const a of optional) {
        const def = defaultText(a);
        ctx.out();
        ctx.out(`# ${a.Desc}${a.Default !== null && a.Default !== undefined ? ` (default: ${def})` : ''}`);
        const v = await ask(`${a.Name}=`);
        if (v !== '') values.set(a.Name, v);
        else if (def !== '') ctx.out(`${a.Name}=${def}`);
      }
    }
    ctx.out();
    ctx.out(`# ${startCommandLine(ctx.opts.repeatable, spec, createArgs(spec, values))}`);
    ctx.out();
    if (ctx.opts.yes) return;
    for (;;) {
      const v = (await ask("Enter 'ok' to start, or ctrl-c to abort: ")).toLowerCase();
      if (v === 'ok') return;
      if (NO_WORDS.has(v)) throw new SpincError('aborted: nothing was started', ExitCode.ERROR);
    }
  } finally {
    prompter.close();
  }
}

export async function start(ctx: Context): Promise<number> {
  const [name, ...tokens] = ctx.args;
  if (name === undefined || name === '') {
    throw new UsageError('start needs a request name. Usage: spinc start <request> [name=value ...]');
  }
  // Bad tokens are reported before the RM is contacted.
  const given = parseArgTokens(tokens);
  const list = await ctx.api((rm) => rm.requestList());
  const spec = list.find((s) => s.Name === name);
  if (!spec) throw new UsageError(`Unknown request: ${name}. Run spinc (no arguments) to list all requests.`);
  checkUnknownArgs(spec, given);

  const values = new Map(given);
  if (ctx.interactive && !ctx.opts.json && !ctx.opts.plan) {
    await promptArgs(ctx, spec, values, given.size === 0);
  } else {
    const missing = missingRequired(spec, values);
    if (missing.length > 0) throw new UsageError(missingArgsMessage(name, missing));
  }

  const args = createArgs(spec, values);
  const shown = shownArgs(spec, args);
  ctx.hideInDebug(Object.keys(args).flatMap((k) => (shown[k] === args[k] ? [] : [args[k] as string])));
  ctx.debug(`creating ${spec.Name} with args ${JSON.stringify(shown)}`);
  if (ctx.opts.plan) {
    const plan = await ctx.api((rm) => rm.planRequest(spec.Name, args));
    if (ctx.opts.json) ctx.json(plan);
    else {
      ctx.out(`Plan of ${spec.Name} (${plan.totalJobs} jobs; nothing was started):`);
      for (const line of planTree(plan.JobChain)) ctx.out(`  ${line}`);
    }
    return ExitCode.OK;
  }
  const key = ctx.opts.idempotencyKey;
  const req = await ctx.api((rm) =>
    rm.createRequest(spec.Name, args, key === undefined ? {} : { idempotencyKey: key }),
  );

  if (!ctx.opts.json) {
    ctx.out(`OK, started ${spec.Name} request ${req.id}`);
    ctx.out();
    ctx.out(`  spinc status ${ctx.opts.repeatable}${req.id}`);
    ctx.out();
  }
  if (!ctx.opts.wait) {
    if (ctx.opts.json) ctx.json(req);
    return ExitCode.OK;
  }
  const final = await follow(ctx, req.id, ctx.opts.json ? ctx.io.stderr : ctx.io.stdout);
  if (ctx.opts.json) ctx.json(final);
  return reportEnd(ctx, final);
}
