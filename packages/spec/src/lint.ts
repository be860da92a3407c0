/**
 * The whole lint run, shared by the `spinc-lint` CLI and the Request Manager's boot:
 * load, then (when the files parsed cleanly) static and graph checks.
 */
import { checkSpecs } from './check.js';
import { countErrors } from './diagnostics.js';
import { type LoadResult, loadSpecs, loadSpecsSync } from './load.js';
import type { Diagnostic, SpecSet } from './model.js';

export interface LintOptions {
  /** Report only these sequences (file-level findings are always reported). */
  sequences?: readonly string[];
  /** Warnings make the run fail. */
  strict?: boolean;
}

export interface LintResult {
  /** The directory as given. */
  dir: string;
  specs: SpecSet;
  /** Spec files read, relative to `dir`, in load order. */
  files: string[];
  /** Findings to report (all of them, or those of the selected sequences), in report order. */
  diagnostics: Diagnostic[];
  /** Counts over ALL findings, selected or not. */
  errors: number;
  warnings: number;
  /** Findings not in `diagnostics` because their sequence was not selected. */
  hidden: { errors: number; warnings: number };
  /** `--sequences` names that no spec defines. */
  unknownSequences: string[];
  /** True when no spec file was found or no sequence defined. */
  empty: boolean;
  /** No errors (and, with `strict`, no warnings), specs found, all selected sequences known. */
  ok: boolean;
}

export async function lintDir(dir: string, opts: LintOptions = {}): Promise<LintResult> {
  return lintLoaded(dir, await loadSpecs(dir), opts);
}

export function lintDirSync(dir: string, opts: LintOptions = {}): LintResult {
  return lintLoaded(dir, loadSpecsSync(dir), opts);
}

/** Lints already loaded specs. Parse errors stop the run before the checks, as in the original. */
export function lintLoaded(dir: string, loaded: LoadResult, opts: LintOptions = {}): LintResult {
  const { specs, files } = loaded;
  const parseFailed = loaded.diagnostics.some((d) => d.severity === 'error');
  const found = parseFailed ? loaded.diagnostics : [...loaded.diagnostics, ...checkSpecs(specs)];
  const all = sortDiagnostics(found, files, specs);
  const selected = opts.sequences && opts.sequences.length > 0 ? new Set(opts.sequences) : undefined;
  const unknownSequences = selected ? [...selected].filter((s) => !specs.sequences.has(s)) : [];
  const shown = selected ? all.filter((d) => d.sequence === undefined || selected.has(d.sequence)) : all;
  const { errors, warnings } = countErrors(all);
  const visible = countErrors(shown);
  const empty = specs.sequences.size === 0 && !parseFailed;
  return {
    dir,
    specs,
    files,
    diagnostics: shown,
    errors,
    warnings,
    hidden: { errors: errors - visible.errors, warnings: warnings - visible.warnings },
    unknownSequences,
    empty,
    ok: errors === 0 && !(opts.strict && warnings > 0) && !empty && unknownSequences.length === 0,
  };
}

/**
 * Report order: by file (load order), then sequence (where it is defined in that file),
 * then line; findings without a sequence come first in their file. Stable otherwise.
 */
export function sortDiagnostics(
  diags: readonly Diagnostic[],
  files: readonly string[],
  specs?: SpecSet,
): Diagnostic[] {
  const fileRank = new Map(files.map((f, i) => [f, i]));
  const seqLine = new Map<string, number>();
  for (const d of diags) {
    if (d.sequence === undefined) continue;
    const k = `${d.file}\0${d.sequence}`;
    const seq = specs?.sequences.get(d.sequence);
    const line = seq && seq.file === d.file ? seq.pos.line : d.line;
    seqLine.set(k, Math.min(seqLine.get(k) ?? Number.POSITIVE_INFINITY, line));
  }
  const rank = (d: Diagnostic) =>
    d.sequence === undefined ? -1 : (seqLine.get(`${d.file}\0${d.sequence}`) as number);
  return diags
    .map((d, i) => ({ d, i }))
    .sort(
      (a, b) =>
        (fileRank.get(a.d.file) ?? files.length) - (fileRank.get(b.d.file) ?? files.length) ||
        (a.d.file < b.d.file ? -1 : a.d.file > b.d.file ? 1 : 0) ||
        rank(a.d) - rank(b.d) ||
        (a.d.sequence ?? '').localeCompare(b.d.sequence ?? '') ||
        a.d.line - b.d.line ||
        a.i - b.i,
    )
    .map((x) => x.d);
}
