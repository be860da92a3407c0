/**
 * Job types against a job module: every job node's `type` must be made by the job module
 * (loaded as the services load `jobs.module`) or the built-in jobs. The spec checks
 * alone cannot know the types; this runs when a job module is given (`spinc-lint
 * --jobs-module`).
 */
import { isUnknownJobTypeError, type JobFactory } from '@spincycle/jobs';
import { diag } from './diagnostics.js';
import { loadJobModule } from './job-module.js';
import { type LintOptions, type LintResult, lintLoaded } from './lint.js';
import { loadSpecs } from './load.js';
import type { Diagnostic, NodeSpec, SpecSet } from './model.js';

/** Whether `factory` makes `type`: from its type list when it has one, else by asking it. */
function makes(factory: JobFactory, known: ReadonlySet<string> | undefined, type: string, node: NodeSpec) {
  if (known) return known.has(type);
  try {
    factory.make({ type, name: node.name, id: '', requestId: '' });
    return true;
  } catch (err) {
    // Any other error comes from a maker that exists.
    return !isUnknownJobTypeError(err);
  }
}

/** One `job-type` error per job node whose type `factory` does not make. */
export function jobTypeChecks(specs: SpecSet, factory: JobFactory): Diagnostic[] {
  const list = typeof factory.types === 'function' ? factory.types() : undefined;
  const known = list ? new Set(list) : undefined;
  const listed = list
    ? `known types: ${[...list].sort().join(', ')}`
    : 'the job module does not list its types';
  const out: Diagnostic[] = [];
  for (const seq of specs.sequences.values()) {
    for (const node of seq.nodes.values()) {
      if (node.category !== 'job' || node.type === undefined) continue;
      if (makes(factory, known, node.type, node)) continue;
      const line = node.raw?.lines.type ?? node.pos.line;
      const where = { file: node.pos.file, line, sequence: seq.name, node: node.name };
      const message = `node ${node.name}: job type "${node.type}" is not made by the job module or the built-in jobs (${listed})`;
      out.push(diag('error', 'job-type', where, message));
    }
  }
  return out;
}

/**
 * `lintDir` plus the job type checks against the job module `moduleSpec` (resolved from
 * `baseDir`, as the services resolve `jobs.module`). Throws JobModuleError when the
 * module cannot be loaded.
 */
export async function lintDirWithJobs(
  dir: string,
  moduleSpec: string,
  baseDir: string,
  opts: LintOptions = {},
): Promise<LintResult> {
  const factory = await loadJobModule(moduleSpec, baseDir);
  const loaded = await loadSpecs(dir);
  // Files that failed to parse contribute no sequences; the run stops at their errors.
  if (!loaded.diagnostics.some((d) => d.severity === 'error'))
    loaded.diagnostics.push(...jobTypeChecks(loaded.specs, factory));
  return lintLoaded(dir, loaded, opts);
}
