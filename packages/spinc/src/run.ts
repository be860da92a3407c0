/**
 * `runSpinc(argv, io)`: the whole CLI as a function of its arguments and
 * streams, returning the exit code. main.ts wires it to the process.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { SPINCYCLE_VERSION } from '@spincycle/protocol';
import { find } from './commands/find.js';
import { help } from './commands/help.js';
import { info } from './commands/info.js';
import { log } from './commands/log.js';
import { ps } from './commands/ps.js';
import { quickHelp } from './commands/quick.js';
import { retry } from './commands/retry.js';
import { running } from './commands/running.js';
import { start } from './commands/start.js';
import { status } from './commands/status.js';
import { stop } from './commands/stop.js';
import { version } from './commands/version.js';
import { wait } from './commands/wait.js';
import { why } from './commands/why.js';
import { Context, type SpincIO } from './context.js';
import { ExitCode, SpincError, UsageError } from './errors.js';
import { commandHelp, findCommand, generalHelp } from './help.js';
import {
  configFileList,
  loadConfigFiles,
  parseCommandLine,
  resolveOptions,
  type SpincOptions,
} from './options.js';

type Command = (ctx: Context) => Promise<number>;

export const COMMAND_TABLE: Readonly<Record<string, Command>> = {
  help,
  start,
  wait,
  status,
  info,
  log,
  ps,
  running,
  stop,
  retry,
  find,
  why,
  version,
};

function writeLine(stream: SpincIO['stderr'], text: string): void {
  stream.write(`${text}\n`);
}

export async function runSpinc(argv: readonly string[], io: SpincIO): Promise<number> {
  let debug = false;
  try {
    const { flags, positionals } = parseCommandLine(argv);
    debug = flags.debug === true;
    const home = io.homeDir ?? io.env.HOME ?? homedir();
    const { files, explicit } = configFileList(flags, io.env, home, io.systemConfigFile);
    const loaded = loadConfigFiles(files, explicit, io.readFile ?? ((p) => readFileSync(p, 'utf8')));
    const opts: SpincOptions = resolveOptions(flags, io.env, loaded.configs);
    debug = opts.debug;
    for (const w of loaded.warnings) writeLine(io.stderr, `spinc: warning: ${w}`);
    if (opts.debug) {
      for (const n of loaded.notes) writeLine(io.stderr, `DEBUG ${n}`);
      const shown = { ...opts, token: opts.token ? '***' : undefined };
      writeLine(io.stderr, `DEBUG options: ${JSON.stringify(shown)}`);
    }

    if (opts.version) {
      if (opts.json) writeLine(io.stdout, JSON.stringify({ spinc: SPINCYCLE_VERSION }));
      else writeLine(io.stdout, `spinc ${SPINCYCLE_VERSION}`);
      return ExitCode.OK;
    }

    const [name, ...args] = positionals;
    if (opts.help) {
      const cmd = name === undefined ? undefined : findCommand(name);
      for (const line of cmd ? commandHelp(cmd) : generalHelp()) writeLine(io.stdout, line);
      return ExitCode.OK;
    }
    if (name !== undefined && !Object.hasOwn(COMMAND_TABLE, name)) {
      throw new UsageError(`Unknown command: ${name}. Run 'spinc help' to list commands.`);
    }
    if (opts.wait && name !== 'start' && name !== 'retry')
      throw new UsageError(
        "--wait is only for 'start' and 'retry' (use 'spinc wait <id>' to follow a request)",
      );
    if (opts.follow && name !== 'log') throw new UsageError("--follow (-f) is only for 'log'");
    if (opts.yes && name !== 'start') throw new UsageError("--yes is only for 'start'");
    if (opts.plan && name !== 'start') throw new UsageError("--plan is only for 'start'");
    if (opts.idempotencyKey !== undefined && name !== 'start')
      throw new UsageError("--idempotency-key is only for 'start'");

    const interactive = io.interactive ?? (io.stdin.isTTY === true && io.stdout.isTTY === true);
    const ctx = new Context(io, opts, args, interactive);
    if (name === undefined) return await quickHelp(ctx);
    return await (COMMAND_TABLE[name] as Command)(ctx);
  } catch (err) {
    if (err instanceof SpincError) {
      if (err.message !== '') writeLine(io.stderr, `spinc: ${err.message}`);
      if (debug && err.message !== '')
        writeLine(io.stderr, `DEBUG ${String((err.cause as Error | undefined)?.stack ?? err.stack)}`);
      return err.exitCode;
    }
    const e = err as Error;
    writeLine(io.stderr, `spinc: ${e?.message ?? String(err)}`);
    if (debug) writeLine(io.stderr, `DEBUG ${e?.stack ?? ''}`);
    return ExitCode.ERROR;
  }
}
