/**
 * What the RM knows about request types: the checked specs and the job
 * factory, loaded once at boot. Builds job chains (the chain package) and the
 * request list.
 */
import {
  type BuiltJobChain,
  buildJobChain,
  type ResolvedArgs,
  requestSequence,
  resolveRequestArgs,
  secretArgNames,
} from '@spincycle/chain';
import type { JobFactory } from '@spincycle/jobs';
import { type RequestArg, type RequestSpec, stringifyJson } from '@spincycle/protocol';
import { type Logger, loadJobFactory } from '@spincycle/service-kit';
import { type Diagnostic, formatDiagnostic, jobTypeChecks, lintDir, type SpecSet } from '@spincycle/spec';
import { givenSecretValues, maskText, redactSpecArgs } from './secrets.js';

/** Thrown at boot when the specs do not pass the checks; lists every error. */
export class SpecsError extends Error {
  constructor(
    readonly dir: string,
    readonly errors: Diagnostic[],
  ) {
    super(
      `${errors.length} error(s) in the request specs in ${dir}:\n${errors.map((d) => `  ${describeDiagnostic(d)}`).join('\n')}`,
    );
    this.name = 'SpecsError';
  }
}

/** `file:line: sequence S: node N: message [check]` (the linter's format). */
export function describeDiagnostic(d: Diagnostic): string {
  return formatDiagnostic(d);
}

export class RequestCatalog {
  private readonly list: RequestSpec[];

  constructor(
    readonly specs: SpecSet,
    readonly factory: JobFactory,
  ) {
    this.list = requestList(specs);
  }

  /** Load and check every spec (the linter's checks) and the job factory; throws SpecsError on errors. */
  static async load(
    specsDir: string,
    jobsModule: string | undefined,
    baseDir: string,
    logger?: Logger,
  ): Promise<RequestCatalog> {
    const result = await lintDir(specsDir);
    const factory = await loadJobFactory(jobsModule, baseDir);
    // A job node whose type no module makes would only fail when a request is created: refuse it at start.
    const diagnostics =
      result.diagnostics.some((d) => d.severity === 'error') || result.specs.sequences.size === 0
        ? result.diagnostics
        : [...result.diagnostics, ...jobTypeChecks(result.specs, factory)];
    const errors = diagnostics.filter((d) => d.severity === 'error');
    for (const d of diagnostics) {
      const fields = { file: d.file, line: d.line, sequence: d.sequence, node: d.node, check: d.check };
      if (d.severity === 'error') logger?.error(`spec error: ${d.message}`, fields);
      else logger?.warn(`spec warning: ${d.message}`, fields);
    }
    if (errors.length > 0) throw new SpecsError(specsDir, errors);
    if (result.specs.sequences.size === 0) logger?.warn('no request specs found', { dir: specsDir });
    return new RequestCatalog(result.specs, factory);
  }

  /**
   * A new request's args checked against its spec, without building anything (cheap:
   * its `requestArgs` are what authorization sees before a chain is built; pass the
   * whole result to `build` so they are not resolved twice). Bad input throws
   * BadRequestError subclasses (400).
   */
  resolveArgs(type: string, args: Record<string, unknown>): ResolvedArgs {
    return resolveRequestArgs(requestSequence(this.specs, type), args);
  }

  /**
   * Build a new request's chain. Bad input throws BadRequestError subclasses
   * (400), a chain over `maxJobs` jobs TooManyJobsError; no message shows the
   * given value of a secret arg (a job's `create` may quote its args).
   */
  async build(
    type: string,
    args: Record<string, unknown>,
    opts: { requestId?: string; maxJobs?: number; resolved?: ResolvedArgs } = {},
  ): Promise<BuiltJobChain> {
    try {
      return await buildJobChain({ specs: this.specs, type, args, factory: this.factory, ...opts });
    } catch (err) {
      const seq = this.specs.sequences.get(type);
      const secrets = seq && err instanceof Error ? givenSecretValues(args, secretArgNames(seq)) : [];
      if (err instanceof Error && secrets.length > 0) err.message = maskText(err.message, secrets);
      throw err;
    }
  }

  /**
   * `build`, then the chain serialised: only its JSON and job count are kept, so the job
   * objects (most of the heap of a 100,000-job chain) are garbage once this returns.
   */
  async buildJson(
    type: string,
    args: Record<string, unknown>,
    opts: { requestId?: string; maxJobs?: number; resolved?: ResolvedArgs } = {},
  ): Promise<Omit<BuiltJobChain, 'chain'> & { jobChainJson: string; totalJobs: number }> {
    const { chain, ...rest } = await this.build(type, args, opts);
    return { ...rest, totalJobs: Object.keys(chain.jobs).length, jobChainJson: stringifyJson(chain) };
  }

  requestList(): RequestSpec[] {
    return this.list;
  }

  /** Names of the request types (for find's read filter). */
  requestTypes(): string[] {
    return this.list.map((s) => s.Name);
  }
}

/** Request types sorted by name; required then optional args (spec order), statics left out; secret args flagged, their defaults redacted. */
export function requestList(specs: SpecSet): RequestSpec[] {
  const out: RequestSpec[] = [];
  for (const seq of specs.sequences.values()) {
    if (!seq.request) continue;
    const args: RequestArg[] = [
      ...seq.args.required.map(
        (a): RequestArg => ({
          Pos: 0,
          Name: a.name,
          Desc: a.desc ?? '',
          Type: 'required',
          Given: false,
          Default: null,
          Value: null,
        }),
      ),
      ...seq.args.optional.map(
        (a): RequestArg => ({
          Pos: 0,
          Name: a.name,
          Desc: a.desc ?? '',
          Type: 'optional',
          Given: false,
          Default: a.default ?? null,
          Value: null,
        }),
      ),
    ];
    out.push({ Name: seq.name, Args: redactSpecArgs(args, secretArgNames(seq)) });
  }
  return out.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}
