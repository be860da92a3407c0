/**
 * The auth plugin named by `auth.module`: an ES module (or CommonJS) exporting
 *   authenticate(request) → {name, roles} | Promise of it   (throw to reject: 401)
 *   authorize(caller, op, request)                          (optional; throw or return false to deny)
 * as named exports or as properties of the default export. `request` is the
 * express request (headers, socket, path); `authorize` runs after the ACL
 * check matched (docs/compatibility.md#authorization).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '@spincycle/service-kit';
import type { Authenticator } from '../auth.js';
import type { PluginAuthorize } from './acl.js';

export interface AuthPlugin {
  authenticate?: Authenticator['authenticate'];
  authorize?: PluginAuthorize;
}

function moduleUrl(spec: string, baseDir: string): string {
  if (spec.startsWith('file:')) return spec;
  const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  if (isAbsolute(spec) || spec.startsWith('.') || existsSync(path)) {
    if (!existsSync(path)) throw new ConfigError(`auth.module: file not found: ${path}`);
    return pathToFileURL(path).href;
  }
  try {
    // A package, resolved from the working directory.
    return pathToFileURL(createRequire(join(resolve(baseDir), 'noop.js')).resolve(spec)).href;
  } catch {
    throw new ConfigError(`auth.module: cannot find module '${spec}' from ${baseDir}`);
  }
}

export async function loadAuthPlugin(spec: string, baseDir: string): Promise<AuthPlugin> {
  const url = moduleUrl(spec, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const where = url.startsWith('file:') ? fileURLToPath(url) : url;
    throw new ConfigError(`auth.module: cannot load ${where}: ${(err as Error).message}`);
  }
  const def = (mod.default ?? {}) as Record<string, unknown>;
  const pick = (name: string) =>
    typeof mod[name] === 'function'
      ? mod[name]
      : typeof def[name] === 'function'
        ? (def[name] as (...a: unknown[]) => unknown).bind(def)
        : undefined;
  const plugin: AuthPlugin = {
    authenticate: pick('authenticate') as AuthPlugin['authenticate'],
    authorize: pick('authorize') as AuthPlugin['authorize'],
  };
  if (!plugin.authenticate && !plugin.authorize)
    throw new ConfigError(
      `auth.module: ${spec} exports neither authenticate(request) nor authorize(caller, op, request)`,
    );
  return plugin;
}
