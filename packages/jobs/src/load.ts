/**
 * Loading the user's job module named in config (`jobs.module`).
 *
 * The module is an ES module (or CommonJS) that exports its jobs as either
 *  - a named export `factory`, or
 *  - a default export,
 * whose value is either a JobFactory (an object with `make(id)`, optionally
 * `types()`) or a plain map `{ [jobType]: (id) => Job }` (a job class is fine
 * as a value too). The result is composed over the built-in jobs, so user
 * types take precedence and the built-ins fill in the rest.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuiltinJobOptions, builtinJobFactory, createBuiltinJobFactory } from './builtin/index.js';
import { JobModuleError } from './errors.js';
import { assertJob, composeFactories, type JobMakers, jobFactoryFromMap } from './factory.js';
import type { JobFactory, JobId } from './job.js';
import { resolvePackage } from './resolve-package.js';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function isPathSpec(spec: string): boolean {
  return isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..';
}

/** Where to import the module from: a file URL, or the bare package name as a last resort. */
async function resolveModule(spec: string, baseDir: string): Promise<string> {
  if (spec.startsWith('file:')) return resolveModule(fileURLToPath(spec), baseDir);
  if (isPathSpec(spec)) {
    const path = resolve(baseDir, spec);
    if (!(await isFile(path))) throw new JobModuleError(spec, `file not found: ${path}`);
    return pathToFileURL(path).href;
  }
  // `jobs/index.js` may be a relative path without `./`; a file there wins over a package.
  const asPath = resolve(baseDir, spec);
  if (await isFile(asPath)) return pathToFileURL(asPath).href;
  // A package, resolved as an import in baseDir would; then as a require
  // would (NODE_PATH, odd layouts); then from this package's own location.
  const entry = await resolvePackage(spec, baseDir);
  if (entry !== undefined) {
    if (!(await isFile(entry))) throw new JobModuleError(spec, `package entry file not found: ${entry}`);
    return pathToFileURL(entry).href;
  }
  try {
    return pathToFileURL(createRequire(join(resolve(baseDir), 'noop.js')).resolve(spec)).href;
  } catch {
    return spec;
  }
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function hasMake(value: unknown): value is JobFactory {
  return typeof value === 'object' && value !== null && typeof (value as JobFactory).make === 'function';
}

/** A JobFactory from an export value; throws JobModuleError saying what is wrong. */
function toFactory(spec: string, exportName: string, value: unknown): JobFactory {
  if (hasMake(value)) {
    const user = value;
    // Check what the user's make returns, so a slip is a clear error at chain building.
    const make = (id: JobId) => {
      const job = user.make(id);
      assertJob(job, id.type);
      return job;
    };
    return typeof user.types === 'function'
      ? { make, types: () => (user.types as () => string[])() }
      : { make };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JobModuleError(
      spec,
      `export "${exportName}" is ${describeKind(value)}, not a job factory: expected an object with a make(id) method, or a map of job type to (id) => Job`,
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) {
    throw new JobModuleError(spec, `export "${exportName}" is an empty map: it makes no job types`);
  }
  for (const [type, maker] of entries) {
    if (typeof maker !== 'function') {
      throw new JobModuleError(
        spec,
        `export "${exportName}" maps job type "${type}" to ${describeKind(maker)}, not a function (id) => Job`,
      );
    }
  }
  return jobFactoryFromMap(value as JobMakers, { check: true });
}

/** The user's factory from a loaded module namespace. */
export function factoryFromModule(spec: string, mod: Record<string, unknown>): JobFactory {
  if (mod.factory !== undefined) return toFactory(spec, 'factory', mod.factory);
  const def = mod.default;
  if (def !== undefined) {
    // CommonJS `module.exports = { factory }` arrives as the default export.
    if (
      !hasMake(def) &&
      typeof def === 'object' &&
      def !== null &&
      (def as { factory?: unknown }).factory !== undefined
    ) {
      return toFactory(spec, 'default.factory', (def as { factory: unknown }).factory);
    }
    return toFactory(spec, 'default', def);
  }
  const names = Object.keys(mod).sort();
  throw new JobModuleError(
    spec,
    `exports no job factory: expected a named export "factory" or a default export; found ${
      names.length ? `only ${names.map((n) => `"${n}"`).join(', ')}` : 'no exports'
    }`,
  );
}

/**
 * The job factory for a service: the user's module (`jobs.module` in config)
 * composed over the built-in jobs, or the built-ins alone when `moduleSpec`
 * is empty. `moduleSpec` is a path relative to `baseDir`, an absolute path, a
 * `file:` URL, or a package name resolved from `baseDir`. Throws
 * JobModuleError when the module is missing, fails to load, or exports
 * nothing usable. `options` configure the built-in job types (e.g. the
 * default timeout and environment allowlist of `shell-command`).
 */
export async function loadJobFactory(
  moduleSpec: string | undefined,
  baseDir: string,
  options?: BuiltinJobOptions,
): Promise<JobFactory> {
  const builtins = options ? createBuiltinJobFactory(options) : builtinJobFactory;
  const spec = moduleSpec?.trim();
  if (!spec) return builtins;
  const target = await resolveModule(spec, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (target === spec && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND')) {
      throw new JobModuleError(
        spec,
        `cannot find module or package "${spec}" (looked from ${resolve(baseDir)}): ${e.message}`,
        {
          cause: err,
        },
      );
    }
    const where = target.startsWith('file:') ? fileURLToPath(target) : target;
    throw new JobModuleError(spec, `failed to load ${where}: ${e.message ?? String(err)}`, { cause: err });
  }
  return composeFactories(factoryFromModule(spec, mod), builtins);
}
