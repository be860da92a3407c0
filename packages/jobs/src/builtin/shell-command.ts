/**
 * `shell-command`: runs one program with arguments, WITHOUT a shell, and
 * captures the tail of its stdout and stderr. Args are validated in `create`
 * (RM side) so that bad input is rejected at request creation.
 *
 * The child is started in its own process group (spawned detached) so that
 * stop and timeout reach everything it started: SIGTERM to the group, then
 * SIGKILL after `killGrace`, also when the group's leader has already exited.
 * When the leader exits on its own, what it left running in its group is
 * terminated the same way: a job leaves no processes behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import type { JobArgs, JobData } from '@spincycle/protocol';
import {
  optionalCount,
  optionalMillis,
  optionalString,
  optionalStringList,
  optionalStringMap,
  requiredString,
} from '../args.js';
import { BaseJob } from '../base-job.js';
import { formatDuration } from '../duration.js';
import { JobArgError } from '../errors.js';
import type { JobId, JobReturn } from '../job.js';
import { startTimer } from '../timer.js';
import { TailBuffer } from './tail-buffer.js';

export const DEFAULT_MAX_OUTPUT = 64 * 1024;
export const DEFAULT_KILL_GRACE_MS = 5000;
/** The timeout of a command whose job args give none: one hour. */
export const DEFAULT_SHELL_TIMEOUT_MS = 60 * 60 * 1000;

/** Options of the `shell-command` job type, set where the job factory is made (the JR's config). */
export interface ShellCommandOptions {
  /** Milliseconds before a command whose args set no `timeout` is killed (default DEFAULT_SHELL_TIMEOUT_MS). */
  defaultTimeout?: number;
  /**
   * Names of the Job Runner's environment variables a command may see. When
   * set, every other variable is withheld (tokens and passwords in the JR's
   * environment stay there); the job's own `env` arg is still passed. Absent:
   * the whole environment is passed.
   */
  envAllowlist?: readonly string[];
}
/** How long to wait, after the process exits, for its output pipes to close (grandchildren may hold them). */
const DRAIN_MS = 200;

export interface ShellCommandArgs {
  /** Program to run: a path, or a name looked up in PATH. */
  cmd: string;
  args: string[];
  /** Milliseconds before the command is killed and the job fails; 0 = no limit; absent = the job type's default. */
  timeout?: number;
  cwd?: string;
  /** Merged over the Job Runner's environment (or over its allowlisted part). */
  env?: Record<string, string>;
  /** Bytes of stdout and of stderr kept (the tail). */
  maxOutput: number;
  /** Milliseconds between SIGTERM and SIGKILL. */
  killGrace: number;
}

type Phase = 'idle' | 'running' | 'done';

function noNul(name: string, value: string): void {
  if (value.includes('\0')) throw new JobArgError(name, value, 'must not contain NUL characters');
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

function signalNumber(signal: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[signal] ?? 0;
}

export class ShellCommandJob extends BaseJob<ShellCommandArgs> {
  private phase: Phase = 'idle';
  private child: ChildProcess | undefined;
  private exited = false;
  private terminating = false;
  private startedAt = 0;
  private endedAt = 0;
  private endNote = '';

  constructor(
    id: JobId,
    private readonly options: ShellCommandOptions = {},
  ) {
    super(id);
  }

  protected override parseArgs(jobArgs: JobArgs): ShellCommandArgs {
    const cmd = requiredString(jobArgs, 'cmd');
    noNul('cmd', cmd);
    const args = optionalStringList(jobArgs, 'args');
    for (const [i, a] of args.entries()) noNul(`args[${i}]`, a);
    const parsed: ShellCommandArgs = {
      cmd,
      args,
      maxOutput: optionalCount(jobArgs, 'maxOutput', DEFAULT_MAX_OUTPUT),
      killGrace: optionalMillis(jobArgs, 'killGrace', DEFAULT_KILL_GRACE_MS),
    };
    const timeout = optionalMillis(jobArgs, 'timeout', -1);
    if (timeout >= 0) parsed.timeout = timeout;
    const cwd = optionalString(jobArgs, 'cwd');
    if (cwd !== undefined) {
      noNul('cwd', cwd);
      parsed.cwd = cwd;
    }
    const env = optionalStringMap(jobArgs, 'env');
    if (env !== undefined) {
      for (const [key, value] of Object.entries(env)) {
        if (key === '' || key.includes('=') || key.includes('\0')) {
          throw new JobArgError(`env.${key}`, value, 'has an invalid variable name');
        }
        noNul(`env.${key}`, value);
      }
      parsed.env = env;
    }
    return parsed;
  }

  /** The command line for messages, shell-quoted where needed, at most 200 characters. */
  commandLine(): string {
    const { cmd, args } = this.args;
    const line = [cmd ?? '', ...(args ?? [])].map(quote).join(' ');
    return line.length > 200 ? `${line.slice(0, 199)}…` : line;
  }

  override status(): string {
    const line = this.commandLine();
    if (this.phase === 'idle')
      return this.stopRequested ? `stopped before start: ${line}` : `not started: ${line}`;
    const pid = this.child?.pid;
    const who = pid === undefined ? line : `${line} (pid ${pid})`;
    if (this.phase === 'done')
      return `${who} ${this.endNote} after ${formatDuration(this.endedAt - this.startedAt)}`;
    const verb = this.terminating ? 'stopping' : 'running';
    return `${verb} ${who} for ${formatDuration(Math.round(performance.now() - this.startedAt))}`;
  }

  override async run(_jobData: JobData): Promise<JobReturn> {
    try {
      return await this.execute();
    } catch (err) {
      // Not expected; `run` must still return a final state.
      this.phase = 'done';
      return this.fail(`shell-command: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  protected override onStop(): void {
    this.terminate();
  }

  private async execute(): Promise<JobReturn> {
    const a = this.args;
    if (typeof a.cmd !== 'string' || !Array.isArray(a.args))
      return this.fail('shell-command: no cmd (job bytes not from create?)');
    if (this.stopRequested) return this.stopped({ error: 'stopped before the command started' });
    if (a.cwd !== undefined) {
      const problem = await checkDir(a.cwd);
      if (problem) {
        this.phase = 'done';
        this.endNote = 'not started';
        return this.fail(problem, { exit: 127 });
      }
      if (this.stopRequested) return this.stopped({ error: 'stopped before the command started' });
    }

    // The JR calls run again on the same instance for job retries: start afresh.
    this.child = undefined;
    this.exited = false;
    this.terminating = false;
    this.endNote = '';
    const stdout = new TailBuffer(a.maxOutput ?? DEFAULT_MAX_OUTPUT);
    const stderr = new TailBuffer(a.maxOutput ?? DEFAULT_MAX_OUTPUT);
    this.phase = 'running';
    this.startedAt = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(a.cmd, a.args, {
        cwd: a.cwd,
        env: this.environment(),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, see terminate()
      });
    } catch (err) {
      return this.startFailed(err);
    }
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    const timeout = this.timeout();
    return new Promise<JobReturn>((resolve) => {
      let timedOut = false;
      const cancelTimeout =
        timeout > 0
          ? startTimer(() => {
              timedOut = true;
              this.terminate();
            }, timeout)
          : () => {};

      child.once('error', (err) => {
        // After a successful spawn, errors are from kill() and are handled there.
        if (child.pid !== undefined || this.exited) return;
        this.exited = true;
        cancelTimeout();
        resolve(this.startFailed(err));
      });

      child.once('exit', (code, signal) => {
        this.exited = true;
        this.endedAt = performance.now();
        cancelTimeout();
        // Whatever the leader left running in its group goes too (no-op when the group is empty).
        this.terminateGroup(child);
        const finish = (): void => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          resolve(this.result(code, signal, timedOut, stdout.text(), stderr.text()));
        };
        // Output may still be in the pipes: wait for them to close, but not for
        // long, since a background grandchild may hold them open.
        if (child.stdout?.closed !== false && child.stderr?.closed !== false) return finish();
        const timer = setTimeout(finish, DRAIN_MS);
        child.once('close', () => {
          clearTimeout(timer);
          finish();
        });
      });

      if (this.stopRequested) this.terminate();
    });
  }

  private result(
    code: number | null,
    signal: NodeJS.Signals | null,
    timedOut: boolean,
    stdout: string,
    stderr: string,
  ): JobReturn {
    this.phase = 'done';
    const exit = code ?? (signal ? 128 + signalNumber(signal) : 1);
    const how = signal ? `killed by signal ${signal}` : `exit status ${exit}`;
    this.endNote = signal ? `killed by ${signal}` : `exited ${exit}`;
    const out = { exit, stdout, stderr };
    if (this.stopRequested && this.terminating) return this.stopped({ ...out, error: `stopped (${how})` });
    if (timedOut) return this.fail(`timed out after ${formatDuration(this.timeout())} (${how})`, out);
    if (code === 0) return this.complete(out);
    return this.fail(how, out);
  }

  private startFailed(err: unknown): JobReturn {
    this.phase = 'done';
    this.endedAt = performance.now();
    this.endNote = 'failed to start';
    const e = err as NodeJS.ErrnoException;
    const exit = e.code === 'ENOENT' ? 127 : e.code === 'EACCES' ? 126 : 1;
    return this.fail(`cannot run ${quote(this.args.cmd)}: ${e.message ?? String(err)}`, { exit });
  }

  /** The command's timeout: its `timeout` arg, else the job type's default. */
  private timeout(): number {
    return this.args.timeout ?? this.options.defaultTimeout ?? DEFAULT_SHELL_TIMEOUT_MS;
  }

  /** The JR's environment (only the allowlisted variables, when there is a list), then the job's `env`. */
  private environment(): NodeJS.ProcessEnv {
    const allow = this.options.envAllowlist;
    let base: NodeJS.ProcessEnv = process.env;
    if (allow) {
      base = {};
      for (const name of allow) if (process.env[name] !== undefined) base[name] = process.env[name];
    }
    return this.args.env ? { ...base, ...this.args.env } : base;
  }

  /** Stop or timeout: SIGTERM to the process group now, SIGKILL after the grace period. */
  private terminate(): void {
    const child = this.child;
    if (!child || this.exited || this.terminating || child.pid === undefined) return;
    this.terminating = true;
    this.terminateGroup(child);
  }

  /**
   * SIGTERM to the child's process group, SIGKILL after the grace period. The
   * SIGKILL is sent even when the leader has exited by then: what it started
   * may ignore SIGTERM. Unref'd, so it never holds the process.
   */
  private terminateGroup(child: ChildProcess): void {
    if (child.pid === undefined || !this.signalGroup(child, 'SIGTERM')) return;
    const kill = setTimeout(
      () => this.signalGroup(child, 'SIGKILL'),
      this.args.killGrace ?? DEFAULT_KILL_GRACE_MS,
    );
    kill.unref();
  }

  /** Signals the group; false when it no longer exists. */
  private signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
    const pid = child.pid as number;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      // No such group (already gone): fall back to the process itself, if still there.
      if (!this.exited) {
        try {
          return child.kill(signal);
        } catch {
          /* already gone */
        }
      }
      return false;
    }
  }
}

async function checkDir(dir: string): Promise<string | undefined> {
  try {
    const st = await stat(dir);
    return st.isDirectory() ? undefined : `cwd ${JSON.stringify(dir)} is not a directory`;
  } catch (err) {
    return `cwd ${JSON.stringify(dir)}: ${(err as Error).message}`;
  }
}
