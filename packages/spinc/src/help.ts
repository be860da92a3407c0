/** Usage texts: the general help and one paragraph per command. */
import { SPINCYCLE_VERSION } from '@spincycle/protocol';
import { DEFAULT_ADDR, DEFAULT_TIMEOUT_MS, SYSTEM_CONFIG_FILE, USER_CONFIG_FILE } from './options.js';

export interface CommandHelp {
  name: string;
  usage: string;
  summary: string;
  details: string;
}

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'help',
    usage: 'help [command|request]',
    summary: "show this help, a command's help, or a request's args",
    details:
      "Without an argument, prints this usage. With a command name, prints that command's help. With a request name, prints the request's args (* marks required ones) with their descriptions and defaults.",
  },
  {
    name: 'start',
    usage: 'start <request> [name=value ...] [--wait] [--yes] [--plan] [--idempotency-key K]',
    summary: 'start a request',
    details: `Starts a request with the args given as name=value. On a terminal (stdin and stdout), spinc asks for missing required args (and, when no args were given, for optional ones, showing their defaults), prints the equivalent command line and asks for 'ok' before starting; --yes skips that confirmation. When stdin or stdout is not a terminal, or with --json, spinc never prompts: missing required args are a usage error (exit 2) naming them, and nothing is started. --wait follows the request to its end (a progress bar on a terminal, progress lines otherwise) and exits 0 for COMPLETE, 4 for FAIL, 5 for STOPPED. --plan starts nothing: it prints the job chain the request would run, as an indented tree of jobs with their types and args (secret values [redacted]). --idempotency-key K sends K as the Idempotency-Key: starting again with the same key and args (within the Request Manager's idempotency.ttl) answers the first request instead of starting another.`,
  },
  {
    name: 'wait',
    usage: 'wait <id>',
    summary: 'follow a request until it ends',
    details:
      'Follows a request until it is COMPLETE, FAIL or STOPPED, showing its progress; exits 0 for COMPLETE, 4 for FAIL, 5 for STOPPED. A SUSPENDED request is waited for until it is resumed and ends.',
  },
  {
    name: 'status',
    usage: 'status <id>',
    summary: 'state, progress and runtime of a request',
    details: 'Prints the state, progress, runtime, type, caller and required args of a request.',
  },
  {
    name: 'why',
    usage: 'why <id>',
    summary: 'why a request is not done (or why it failed)',
    details:
      'For a request that is not finished, prints what each unfinished job waits on: jobs it depends on, a retry wait and when it ends, a lock held by another request, a free job slot on its Job Runner, a lost Job Runner, a suspended request waiting to be resumed, a request not started yet. For a finished request, prints the jobs that failed or were stopped and their last errors.',
  },
  {
    name: 'info',
    usage: 'info <id>',
    summary: 'details of a request',
    details:
      'Prints the id, type, caller, created/started/finished times (ISO 8601, UTC), state, Job Runner host, job counts and args (required and optional) of a request.',
  },
  {
    name: 'log',
    usage: 'log <id> [jobId] | log -f <id>',
    summary: 'job log of a request',
    details:
      "Prints the job log of a request, oldest first: one block per job try with its state, exit code, error, runtime, times, stdout and stderr. With a job id, only that job's latest try. With -f (--follow), prints entries as they are stored until the request ends (from the RM's live events, or by polling an RM without them); with --json one entry per line.",
  },
  {
    name: 'ps',
    usage: 'ps [id]',
    summary: 'running jobs',
    details:
      'Lists the jobs running now on all Job Runners (or only those of one request): request type and id, request progress, caller, job runtime, try, job name and job status. Prints nothing when nothing runs.',
  },
  {
    name: 'running',
    usage: 'running <id>',
    summary: 'exit 0 if a request is pending, running or suspended',
    details:
      'Prints nothing; exits 0 if the request is PENDING, RUNNING or SUSPENDED and 1 otherwise (also 1 when the request does not exist, with the message on stderr). Handy in shell loops: while spinc running <id>; do sleep 5; done',
  },
  {
    name: 'stop',
    usage: 'stop <id>',
    summary: 'stop a running request',
    details:
      'Stops a running request: its running jobs are stopped and it ends STOPPED. Stopping a COMPLETE request does nothing.',
  },
  {
    name: 'retry',
    usage: 'retry <id> [--wait]',
    summary: 'run a failed or stopped request again',
    details:
      'Runs a FAIL or STOPPED request again, same id, from its failed and stopped jobs: completed jobs are not run again, try numbers continue and the job log keeps every earlier try. Any other state is an error naming it. --wait follows the request to its end, as start --wait does.',
  },
  {
    name: 'find',
    usage: 'find [filter=value ...]',
    summary: 'find requests',
    details: `Lists requests, newest first. Filters: type=<request>, states=<STATE,...> (case-insensitive), user=<user>, args=<name=value,...> (exact arg values), since=<time> (still running after), until=<time> (created before), limit=<n> (default 10, 0 = all; pages of at most 1000 are followed), offset=<n>, cursor=<c> (start after the page that printed it), timezone=utc|local (how times are shown). Times: ISO 8601 such as 2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00, or the original's '2024-05-01 12:00:00 UTC'; a time without a zone (2024-05-01, 2024-05-01T12:00) is in the timezone filter's zone.`,
  },
  {
    name: 'version',
    usage: 'version',
    summary: 'spinc and Request Manager versions',
    details:
      'Prints the spinc version and the version of the Request Manager at --addr (exit 3 when it cannot be reached). --version prints only the spinc version, without contacting the Request Manager.',
  },
];

export function findCommand(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export const OPTIONS: readonly (readonly [string, string])[] = [
  ['--addr URL', `Request Manager address (env SPINC_ADDR, config addr; default ${DEFAULT_ADDR})`],
  [
    '--config FILES',
    `comma-separated config files (env SPINC_CONFIG; default ${SYSTEM_CONFIG_FILE},${USER_CONFIG_FILE})`,
  ],
  [
    '--timeout MS',
    `HTTP timeout in milliseconds (env SPINC_TIMEOUT, config timeout; default ${DEFAULT_TIMEOUT_MS})`,
  ],
  ['--debug', 'print diagnostics and stack traces to stderr (env SPINC_DEBUG, config debug)'],
  ['--env NAME', 'environment name, repeated in the commands spinc prints (env SPINC_ENV, config env)'],
  ['--ca FILE', 'CA certificate(s) to trust for an https RM (env SPINC_CA, config ca)'],
  [
    '--cert FILE',
    'client certificate, with --key, for an RM that requires one (env SPINC_CERT, config cert)',
  ],
  ['--key FILE', 'private key of --cert (env SPINC_KEY, config key)'],
  ['--json', "print the API's JSON, one document on stdout (never prompts)"],
  ['--wait', 'start, retry: follow the request until it ends'],
  ['-f, --follow', 'log: print entries as they are stored until the request ends'],
  ['--plan', 'start: print the job chain it would run; start nothing'],
  ['--idempotency-key K', 'start: a repeat with the same key answers the first request'],
  ['--yes, -y', 'start: do not ask for confirmation'],
  ['--help, -h', 'show help (spinc <command> --help for a command)'],
  ['--version', 'print the spinc version'],
];

export const EXIT_CODES: readonly (readonly [number, string])[] = [
  [0, 'success (start --wait, wait: the request is COMPLETE)'],
  [1, 'API or operation error (running: the request is not pending/running/suspended)'],
  [2, 'usage error: bad flags, unknown command, request or arg, bad filter, missing args'],
  [3, 'Request Manager unreachable or timed out'],
  [4, 'start --wait, wait: the request ended FAIL'],
  [5, 'start --wait, wait: the request ended STOPPED'],
];

export function generalHelp(): string[] {
  const w = Math.max(...COMMANDS.map((c) => c.usage.replace(/ \[--wait\].*$/, '').length));
  const ow = Math.max(...OPTIONS.map(([o]) => o.length));
  return [
    `spinc ${SPINCYCLE_VERSION}: the Spin Cycle command-line client`,
    '',
    'Usage: spinc [options] <command> [args...]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.usage.replace(/ \[--wait\].*$/, '').padEnd(w)}  ${c.summary}`),
    '',
    'Options (anywhere on the command line):',
    ...OPTIONS.map(([o, d]) => `  ${o.padEnd(ow)}  ${d}`),
    '',
    'Config files (YAML, later files override earlier; env overrides files; flags override env):',
    '  keys: addr, timeout, debug, env, ca, cert, key, token (sent as Authorization: Bearer; or env SPINC_TOKEN)',
    '',
    'Exit codes:',
    ...EXIT_CODES.map(([c, d]) => `  ${c}  ${d}`),
    '',
    "Run 'spinc help <command>' for a command's help, 'spinc help <request>' for a request's args.",
    'Run spinc (no command) to list requests.',
  ];
}

export function commandHelp(c: CommandHelp): string[] {
  return [`Usage: spinc [options] ${c.usage}`, '', ...wrap(c.details, 80)];
}

/** Wrap text at word boundaries. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
