/** `help`, `help <command>`, `help <request>`. */
import { SPINCYCLE_VERSION } from '@spincycle/protocol';
import type { Context } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { COMMANDS, commandHelp, EXIT_CODES, findCommand, generalHelp, OPTIONS } from '../help.js';
import { defaultText } from '../request-args.js';

export async function help(ctx: Context): Promise<number> {
  if (ctx.args.length > 1)
    throw new UsageError("help takes at most one argument: a command or a request. Run 'spinc help'.");
  const topic = ctx.args[0];
  if (topic === undefined) {
    if (ctx.opts.json) {
      ctx.json({
        version: SPINCYCLE_VERSION,
        commands: COMMANDS.map((c) => ({ name: c.name, usage: c.usage, summary: c.summary })),
        options: OPTIONS.map(([flag, description]) => ({ flag, description })),
        exitCodes: EXIT_CODES.map(([code, meaning]) => ({ code, meaning })),
      });
    } else {
      for (const line of generalHelp()) ctx.out(line);
    }
    return ExitCode.OK;
  }
  const cmd = findCommand(topic);
  if (cmd) {
    if (ctx.opts.json)
      ctx.json({ name: cmd.name, usage: cmd.usage, summary: cmd.summary, details: cmd.details });
    else for (const line of commandHelp(cmd)) ctx.out(line);
    return ExitCode.OK;
  }
  return requestHelp(ctx, topic);
}

async function requestHelp(ctx: Context, name: string): Promise<number> {
  const list = await ctx.api((rm) => rm.requestList());
  const spec = list.find((s) => s.Name === name);
  if (!spec) {
    throw new UsageError(
      `'${name}' is not a valid command or request. Run 'spinc help' to list commands, or 'spinc' to list requests.`,
    );
  }
  if (ctx.opts.json) {
    ctx.json(spec);
    return ExitCode.OK;
  }
  const args = (spec.Args ?? []).filter((a) => a.Type !== 'static');
  const width = Math.max(0, ...args.map((a) => a.Name.length));
  ctx.out(`Request Manager address: ${ctx.opts.addr}`);
  ctx.out();
  ctx.out(`${spec.Name} request args (* required)`);
  for (const a of args) {
    const def = a.Type === 'optional' ? ` (default: ${defaultText(a)})` : '';
    ctx.out(
      `  ${a.Type === 'required' ? '*' : ' '} ${a.Name.padEnd(width)}  ${a.Desc}${def}`.replace(/\s+$/, ''),
    );
  }
  if (args.length === 0) ctx.out('  (no args)');
  ctx.out();
  ctx.out(`To start a ${spec.Name} request, run 'spinc start ${spec.Name}'`);
  return ExitCode.OK;
}
