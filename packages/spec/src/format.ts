/**
 * Output of a lint run: the human report (grouped by file, then sequence, numbered like the
 * original linter's) and the machine-readable JSON report.
 */
import { plural } from './diagnostics.js';
import type { LintResult } from './lint.js';
import type { Diagnostic } from './model.js';

export interface FormatOptions {
  /** ANSI colours: red errors, yellow warnings, green OK. */
  color?: boolean;
  /** Show warnings (they still count for `ok`/strict). Default true. */
  warnings?: boolean;
  /** Warnings fail the run (only changes the closing line here). */
  strict?: boolean;
}

const SEPARATOR = `# ${'-'.repeat(78)}`;

const paint = (on: boolean, code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

/** One finding on one line: `file:line: sequence S: message [check]`. */
export function formatDiagnostic(d: Diagnostic): string {
  const seq = d.sequence === undefined ? '' : `sequence ${d.sequence}: `;
  return `${d.file}:${d.line}: ${seq}${d.message} [${d.check}]`;
}

export function formatHuman(result: LintResult, opts: FormatOptions = {}): string {
  const red = paint(opts.color ?? false, 31);
  const yellow = paint(opts.color ?? false, 33);
  const green = paint(opts.color ?? false, 32);
  const showWarnings = opts.warnings ?? true;
  const shown = result.diagnostics.filter((d) => showWarnings || d.severity === 'error');

  // Group consecutive findings (already sorted by file, sequence) by file and sequence.
  const groups: Array<{ file: string; sequence: string | undefined; items: Diagnostic[] }> = [];
  for (const d of shown) {
    const last = groups[groups.length - 1];
    if (last && last.file === d.file && last.sequence === d.sequence) last.items.push(d);
    else groups.push({ file: d.file, sequence: d.sequence, items: [d] });
  }

  const lines: string[] = [];
  let counter = 0;
  for (const g of groups) {
    lines.push(SEPARATOR, `# File: ${g.file}`);
    if (g.sequence !== undefined) lines.push(`#  Seq: ${g.sequence}`);
    for (const severity of ['error', 'warning'] as const) {
      const items = g.items.filter((d) => d.severity === severity);
      if (items.length === 0) continue;
      lines.push(severity === 'error' ? red('Errors') : yellow('Warnings'));
      for (const d of items) lines.push(`${String(++counter).padStart(4)}: ${formatDiagnostic(d)}`, '');
    }
  }
  if (groups.length > 0) lines.push(SEPARATOR);

  const { errors, warnings, hidden } = result;
  if (hidden.errors > 0 || hidden.warnings > 0) {
    lines.push(
      `${count(hidden.errors, 'error')} and ${count(hidden.warnings, 'warning')} in sequences not selected by --sequences (not shown)`,
    );
  }
  const counts = `${count(errors, 'error')}, ${count(warnings, 'warning')} in ${count(result.files.length, 'file')}, ${count(result.specs.sequences.size, 'sequence')}`;
  if (errors > 0) lines.push(red(`FAILED: ${counts}`));
  else if (warnings > 0 && opts.strict) lines.push(red(`FAILED (strict, warnings are errors): ${counts}`));
  else if (warnings > 0 && !showWarnings) lines.push(yellow('Warnings occurred and suppressed'));
  else if (warnings > 0) lines.push(yellow(`OK with warnings: ${counts}`));
  else lines.push(green('OK, all specs are valid'));
  return `${lines.join('\n')}\n`;
}

export interface JsonDiagnostic {
  severity: Diagnostic['severity'];
  check: string;
  file: string;
  line: number;
  sequence: string | null;
  node: string | null;
  message: string;
}

export interface JsonReport {
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: JsonDiagnostic[];
  dir: string;
  files: number;
  sequences: number;
  hidden: { errors: number; warnings: number };
  unknownSequences: string[];
}

export function toJsonReport(result: LintResult, opts: { warnings?: boolean } = {}): JsonReport {
  const showWarnings = opts.warnings ?? true;
  return {
    ok: result.ok,
    errors: result.errors,
    warnings: result.warnings,
    diagnostics: result.diagnostics
      .filter((d) => showWarnings || d.severity === 'error')
      .map((d) => ({
        severity: d.severity,
        check: d.check,
        file: d.file,
        line: d.line,
        sequence: d.sequence ?? null,
        node: d.node ?? null,
        message: d.message,
      })),
    dir: result.dir,
    files: result.files.length,
    sequences: result.specs.sequences.size,
    hidden: result.hidden,
    unknownSequences: result.unknownSequences,
  };
}

function count(n: number, what: string): string {
  return `${n} ${what}${plural(n)}`;
}
