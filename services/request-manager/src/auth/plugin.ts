/**
 * The auth plugin named by `auth.module`: an ES module (or CommonJS) exporting
 *   authenticate(request) → {name, roles} | Promise of it   (throw to reject: 401)
 *   authorize(caller, op, request)                          (optional; throw or return false to deny)
 * as named exports or as properties of the default export. `request` is the
 * express request (headers, socket, path); `authorize` runs after the ACL
 * check matched (docs/compatibility.md#authorization).
 */
import { ConfigError, importModule, ModuleLoadError } from '@spincycle/service-kit';
import type { Authenticator } from '../auth.js';
import type { PluginAuthorize } from './acl.js';

export interface AuthPlugin {
  authenticate?: Authenticator['authenticate'];
  authorize?: PluginAuthorize;
}

export async function loadAuthPlugin(spec: string, baseDir: string): Promise<AuthPlugin> {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(spec, baseDir);
  } catch (err) {
    if (err instanceof ModuleLoadError) throw new ConfigError(`auth.module: ${err.message}`);
    throw err;
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
