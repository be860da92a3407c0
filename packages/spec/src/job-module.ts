/**
 * Loads a job module for `spinc-lint --jobs-module`, the way the services load `jobs.module`:
 * the module's `factory` or default export (`factoryFromModule` of `@spincycle/jobs`) composed
 * over the built-in jobs. Only `@spincycle/jobs` is needed, so the published linter stays
 * free of the services' own packages.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  builtinJobFactory,
  composeFactories,
  factoryFromModule,
  type JobFactory,
  JobModuleError,
} from '@spincycle/jobs';

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() === true;
}

/** A file URL for `spec`: a path (relative to `baseDir`), a `file:` URL, or a package resolved from `baseDir`. */
async function locate(spec: string, baseDir: string): Promise<string> {
  const file = spec.startsWith('file:') ? fileURLToPath(spec) : path.resolve(baseDir, spec);
  if (await isFile(file)) return pathToFileURL(file).href;
  const pathLike = spec.startsWith('file:') || path.isAbsolute(spec) || /^\.\.?([/\\]|$)/.test(spec);
  if (pathLike) throw new JobModuleError(spec, `file not found: ${file}`);
  try {
    return pathToFileURL(createRequire(path.join(path.resolve(baseDir), 'noop.js')).resolve(spec)).href;
  } catch (err) {
    throw new JobModuleError(
      spec,
      `cannot find module or package "${spec}" (looked from ${path.resolve(baseDir)})`,
      {
        cause: err,
      },
    );
  }
}

/** The job factory of the module `spec` over the built-in jobs; throws JobModuleError. */
export async function loadJobModule(spec: string, baseDir: string): Promise<JobFactory> {
  const url = await locate(spec, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new JobModuleError(spec, `failed to load ${fileURLToPath(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return composeFactories(factoryFromModule(spec, mod), builtinJobFactory);
}
