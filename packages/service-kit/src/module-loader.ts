/**
 * Loading a module named in config (`jobs.module`, `auth.module`): a path
 * (relative to `baseDir`, absolute, or a `file:` URL) or an installed package
 * resolved as an `import` from `baseDir` would be (node's resolution with
 * `exports` conditions, by exsolve: node 20 cannot `import.meta.resolve` from
 * another directory), then as a `require` would (NODE_PATH). ES modules and
 * CommonJS both load.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveModuleURL } from 'exsolve';

/** Why a module could not be loaded; the message says it without the config key. */
export class ModuleLoadError extends Error {
  override readonly name = 'ModuleLoadError';
  constructor(
    /** `not-found`: no file or package by that name; `failed`: importing it threw. */
    readonly reason: 'not-found' | 'failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isPathSpec(spec: string): boolean {
  return isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..';
}

/** The file URL `spec` names from `baseDir`; throws ModuleLoadError('not-found'). */
export function resolveModuleSpec(spec: string, baseDir: string): string {
  const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolve(baseDir, spec);
  if (spec.startsWith('file:') || isPathSpec(spec)) {
    if (!isFile(path)) throw new ModuleLoadError('not-found', `file not found: ${path}`);
    return pathToFileURL(path).href;
  }
  // `jobs/index.js` may be a relative path without `./`: a file there wins over a package.
  if (isFile(path)) return pathToFileURL(path).href;
  const dir = resolve(baseDir);
  const url = resolveModuleURL(spec, { from: pathToFileURL(join(dir, '/')), try: true, cache: false });
  if (url?.startsWith('file:')) return url;
  try {
    return pathToFileURL(createRequire(join(dir, 'noop.js')).resolve(spec)).href;
  } catch (err) {
    throw new ModuleLoadError(
      'not-found',
      `cannot find module or package "${spec}" (looked from ${dir}): ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
}

/** Import the module `spec` names from `baseDir`; throws ModuleLoadError. */
export async function importModule(spec: string, baseDir: string): Promise<Record<string, unknown>> {
  const url = resolveModuleSpec(spec, baseDir);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new ModuleLoadError(
      'failed',
      `failed to load ${fileURLToPath(url)}: ${(err as Error)?.message ?? String(err)}`,
      {
        cause: err,
      },
    );
  }
}
