/**
 * The job factory of a service: the user's module (`jobs.module`) loaded with
 * the shared module loader, composed over the built-in jobs.
 */
import {
  type BuiltinJobOptions,
  builtinJobFactory,
  composeFactories,
  createBuiltinJobFactory,
  factoryFromModule,
  type JobFactory,
  JobModuleError,
} from '@spincycle/jobs';
import { importModule, ModuleLoadError } from './module-loader.js';

/**
 * The user's module composed over the built-in jobs, or the built-ins alone
 * when `moduleSpec` is empty. `moduleSpec` is a path relative to `baseDir`, an
 * absolute path, a `file:` URL, or a package name resolved from `baseDir`.
 * Throws JobModuleError when the module is missing, fails to load, or exports
 * nothing usable. `options` configure the built-in job types.
 */
export async function loadJobFactory(
  moduleSpec: string | undefined,
  baseDir: string,
  options?: BuiltinJobOptions,
): Promise<JobFactory> {
  const builtins = options ? createBuiltinJobFactory(options) : builtinJobFactory;
  const spec = moduleSpec?.trim();
  if (!spec) return builtins;
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(spec, baseDir);
  } catch (err) {
    if (err instanceof ModuleLoadError)
      throw new JobModuleError(spec, err.message, { cause: err.cause ?? err });
    throw err;
  }
  return composeFactories(factoryFromModule(spec, mod), builtins);
}
