/**
 * `spinc-lint [DIR] [flags]`: lints a specs directory, with the original linter's
 * command line (its exit-status and `--sequences` quirks fixed, see docs/compatibility.md). Exit 0 valid, 1 invalid (errors; warnings with --strict; no specs; unknown
 * --sequences names; unreadable dir), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { JobModuleError } from '@spincycle/jobs';
import { formatHuman, toJsonReport } from './format.js';
import { lintDirWithJobs } from './job-types.js';
import { type LintResult, lintDir } from './lint.js';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Whether stdout is a terminal (default for --color). */
  isTTY: boolean;
}

export const USAGE = `Usage: spinc-lint [SPECS_DIR] [flags]

Checks Spin Cycle request specs (*.yaml, *.yml under SPECS_DIR, default ./).

Flags:
  -s, --strict           warnings make the run fail (exit 1)
      --warnings=BOOL    print warnings (default true)
      --color=BOOL       ANSI colours (default: true when stdout is a terminal)
      --sequences=a,b    report only these sequences (errors elsewhere still fail the run)
      --format=FORMAT    text (default) or json
      --jobs-module=PATH check job node types against this job module (and the
                         built-in jobs), loaded as the Job Runner loads jobs.module
      --version          print the version
  -h, --help             print this help

Exit status: 0 valid, 1 invalid specs, 2 usage error.
`;

const BOOL_FLAGS = ['strict', 'warnings', 'color'];

class UsageError extends Error {}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let opts: ParsedOptions;
  try {
    opts = parseCliArgs(argv, io.isTTY);
  } catch (err) {
    const parseError = String((err as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (!(err instanceof UsageError) && !parseError) throw err;
    io.stderr(`spinc-lint: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (opts.version) {
    io.stdout(`spinc-lint ${version()}\n`);
    return 0;
  }

  let result: LintResult;
  try {
    const lintOpts = { sequences: opts.sequences, strict: opts.strict };
    result = opts.jobsModule
      ? await lintDirWithJobs(opts.dir, opts.jobsModule, process.cwd(), lintOpts)
      : await lintDir(opts.dir, lintOpts);
  } catch (err) {
    if (err instanceof JobModuleError) {
      io.stderr(`spinc-lint: ${err.message}\n`);
      return 1;
    }
    io.stderr(`spinc-lint: cannot read specs dir ${opts.dir}: ${(err as Error).message}\n`);
    return 1;
  }
  if (opts.format === 'json')
    io.stdout(`${JSON.stringify(toJsonReport(result, { warnings: opts.warnings }), null, 2)}\n`);

  if (result.empty) {
    const abs = path.resolve(opts.dir);
    io.stderr(`No specs found in ${opts.dir}${abs !== opts.dir ? ` (${abs})` : ''}\n`);
    return 1;
  }
  if (result.unknownSequences.length > 0) {
    io.stderr(`Args to --sequences not found in specs: ${result.unknownSequences.join(', ')}\n`);
    return 1;
  }
  if (opts.format === 'text')
    io.stdout(formatHuman(result, { color: opts.color, warnings: opts.warnings, strict: opts.strict }));
  return result.ok ? 0 : 1;
}

interface ParsedOptions {
  dir: string;
  strict: boolean;
  warnings: boolean;
  color: boolean;
  sequences: string[];
  format: 'text' | 'json';
  jobsModule: string | undefined;
  version: boolean;
  help: boolean;
}

export function parseCliArgs(argv: readonly string[], isTTY: boolean): ParsedOptions {
  // Boolean flags take an optional `=BOOL` (Go flag style): turn bare `--x` into `--x=true`.
  const args = argv.map((a) => {
    if (a === '-s') return '--strict=true';
    if (a.startsWith('--') && BOOL_FLAGS.includes(a.slice(2))) return `${a}=true`;
    return a;
  });
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      strict: { type: 'string' },
      warnings: { type: 'string' },
      color: { type: 'string' },
      sequences: { type: 'string', multiple: true },
      format: { type: 'string' },
      'jobs-module': { type: 'string' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1)
    throw new UsageError(`expected at most one SPECS_DIR, got ${positionals.length}`);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be text or json, got "${format}"`);
  const sequences = (values.sequences ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    dir: positionals[0] ?? './',
    strict: parseBool('strict', values.strict, false),
    warnings: parseBool('warnings', values.warnings, true),
    color: parseBool('color', values.color, isTTY),
    sequences,
    format,
    jobsModule: values['jobs-module'],
    version: values.version ?? false,
    help: values.help ?? false,
  };
}

/** Go's strconv.ParseBool spellings. */
function parseBool(flag: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new UsageError(`invalid boolean value "${v}" for --${flag}`);
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
