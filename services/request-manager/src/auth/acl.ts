/**
 * The built-in authorization: admin roles, the request's owner (for `stop`
 * and `read`), the request type's ACLs from the specs, strict mode, then the
 * plugin's own `authorize` (not for `read`, so find can filter in SQL). Runs
 * for `start` (create and PUT start) and `stop` before anything is stored or
 * changed, and for `read` before args, job chain or job logs are answered;
 * every denial becomes a 401 with the reason as message.
 */
import type { Request, RequestOp } from '@spincycle/protocol';
import type { AuthDecision, Authorizer, Caller, ReadScope } from '../auth.js';

export interface AclEntry {
  role: string;
  admin: boolean;
  ops: readonly string[];
}

/** The plugin's post-authorization: throw (or return false) to deny. */
export type PluginAuthorize = (caller: Caller, op: RequestOp, request: Request) => unknown;

export interface AclAuthorizerOptions {
  /** A caller with any of these roles may do anything (the plugin is not asked). */
  adminRoles: readonly string[];
  /** Deny request types that have no ACLs. */
  strict: boolean;
  /** The ACLs of a sequence, or undefined when the current specs do not define it. */
  acls: (type: string) => readonly AclEntry[] | undefined;
  plugin?: PluginAuthorize;
}

const list = (xs: readonly string[]) => `[${xs.join(' ')}]`;

export class AclAuthorizer implements Authorizer {
  private readonly adminRoles: ReadonlySet<string>;

  constructor(private readonly opts: AclAuthorizerOptions) {
    this.adminRoles = new Set(opts.adminRoles);
  }

  private isAdmin(caller: Caller): boolean {
    return (caller.roles ?? []).some((r) => this.adminRoles.has(r));
  }

  /** Find's filter: admins (and everyone when not strict) read all; others their own requests and types granting `read`. */
  readScope(caller: Caller, types: readonly string[]): ReadScope {
    if (this.isAdmin(caller) || !this.opts.strict) return { all: true };
    const roles = new Set(caller.roles ?? []);
    const readable = types.filter((t) =>
      (this.opts.acls(t) ?? []).some((a) => roles.has(a.role) && (a.admin || a.ops.includes('read'))),
    );
    return { all: false, user: caller.name, types: readable };
  }

  async authorize(caller: Caller, op: RequestOp, request: Request): Promise<AuthDecision> {
    const roles = caller.roles ?? [];
    // 1. Admins may do anything.
    if (this.isAdmin(caller)) return { allowed: true };
    const type = request.type;
    // The user who created a request may read and stop it (never the anonymous "" of another request).
    const owner = caller.name !== '' && request.user === caller.name && op !== 'start';
    if (op === 'read' && (owner || !this.opts.strict)) return { allowed: true };
    if (owner) return this.askPlugin(caller, op, request);
    // 2. A type the current specs do not know (e.g. a stored request whose spec was removed).
    const acls = this.opts.acls(type);
    if (acls === undefined) return deny(`denied: request ${type} is not defined`);
    // 3. No ACLs: allowed unless strict; the plugin is not asked.
    if (acls.length === 0) {
      return this.opts.strict
        ? deny(`denied: request ${type} has no ACLs and strict auth is enabled`)
        : { allowed: true };
    }
    // 4. First ACL entry matching a caller role that grants the op wins.
    let matched = false;
    let granted = false;
    for (const acl of acls) {
      for (const role of roles) {
        if (role !== acl.role) continue;
        matched = true;
        if (acl.admin || acl.ops.includes(op)) granted = true;
        break;
      }
      if (granted) break;
    }
    if (!matched) {
      return deny(
        `denied: no caller role matches ${type} ACL: caller has ${list(roles)}, ${type} requires one of ${list(acls.map((a) => a.role))}`,
      );
    }
    if (!granted) return deny(`denied: no matching caller role granted ${op} op for request ${type}`);
    // 5. The plugin's own check (not for reads: find decides those in SQL).
    return op === 'read' ? { allowed: true } : this.askPlugin(caller, op, request);
  }

  private async askPlugin(caller: Caller, op: RequestOp, request: Request): Promise<AuthDecision> {
    if (this.opts.plugin) {
      try {
        const ok = await this.opts.plugin(caller, op, request);
        if (ok === false) return deny(`denied by auth plugin Authorize: ${op} not allowed`);
      } catch (err) {
        return deny(`denied by auth plugin Authorize: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { allowed: true };
  }
}

function deny(reason: string): AuthDecision {
  return { allowed: false, reason };
}
