/**
 * The job factory a user's job module (`jobs.module`) exports; the services
 * load the module (service-kit's `loadJobFactory`).
 *
 * The module is an ES module (or CommonJS) that exports its jobs as either
 *  - a named export `factory`, or
 *  - a default export,
 * whose value is either a JobFactory (an object with `make(id)`, optionally
 * `types()`) or a plain map `{ [jobType]: (id) => Job }` (a job class is fine
 * as a value too). The result is composed over the built-in jobs, so user
 * types take precedence and the built-ins fill in the rest.
 */
import { JobModuleError } from './errors.js';
import { assertJob, type JobMakers, jobFactoryFromMap } from './factory.js';
import type { JobFactory, JobId } from './job.js';

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
