/**
 * The ACL decision procedure (docs/compatibility.md#authorization), case by case: admin roles,
 * unknown types, no ACLs with strict on and off, request admins, ops, role
 * mismatches, and the plugin's post-authorization.
 */
import type { Request, RequestOp } from '@spincycle/protocol';
import { describe, expect, it, vi } from 'vitest';
import { AclAuthorizer, type AclEntry, type PluginAuthorize } from '../src/auth/acl.js';
import type { Caller } from '../src/auth.js';

const ACLS: Record<string, AclEntry[]> = {
  deploy: [
    { role: 'platform', admin: true, ops: [] },
    { role: 'deployer', admin: false, ops: ['start', 'stop'] },
    { role: 'starter', admin: false, ops: ['start'] },
    { role: 'nothing', admin: false, ops: [] },
  ],
  open: [],
};

function authorizer(opts: { strict?: boolean; adminRoles?: string[]; plugin?: PluginAuthorize } = {}) {
  return new AclAuthorizer({
    adminRoles: opts.adminRoles ?? ['sre'],
    strict: opts.strict ?? false,
    acls: (t) => ACLS[t],
    plugin: opts.plugin,
  });
}

const req = (type: string) => ({ id: 'r1', type, state: 1, user: 'u' }) as Request;
const caller = (...roles: string[]): Caller => ({ name: 'u', roles });
const decide = (a: AclAuthorizer, c: Caller, op: RequestOp, type: string) => a.authorize(c, op, req(type));

describe('ACL decision', () => {
  it('1. a caller with an admin role may do anything, even unknown types; the plugin is not asked', async () => {
    const plugin = vi.fn(() => {
      throw new Error('no');
    });
    const a = authorizer({ plugin, strict: true });
    for (const type of ['deploy', 'open', 'gone'])
      for (const op of ['start', 'stop'] as const)
        expect(await decide(a, caller('x', 'sre'), op, type)).toEqual({ allowed: true });
    expect(plugin).not.toHaveBeenCalled();
  });

  it('2. a type the specs do not define is denied', async () => {
    expect(await decide(authorizer(), caller('deployer'), 'stop', 'gone')).toEqual({
      allowed: false,
      reason: 'denied: request gone is not defined',
    });
  });

  it('3. no ACLs: allowed when not strict (plugin not asked), denied when strict', async () => {
    const plugin = vi.fn(() => false);
    expect(await decide(authorizer({ plugin }), caller(), 'start', 'open')).toEqual({ allowed: true });
    expect(plugin).not.toHaveBeenCalled();
    expect(await decide(authorizer({ strict: true }), caller('deployer'), 'start', 'open')).toEqual({
      allowed: false,
      reason: 'denied: request open has no ACLs and strict auth is enabled',
    });
  });

  it('4. a request admin (acl admin: true) may start and stop; strict changes nothing', async () => {
    for (const strict of [false, true])
      for (const op of ['start', 'stop'] as const)
        expect(await decide(authorizer({ strict }), caller('platform'), op, 'deploy')).toEqual({
          allowed: true,
        });
  });

  it('4. ops grant exactly the listed operations', async () => {
    const a = authorizer();
    expect(await decide(a, caller('deployer'), 'start', 'deploy')).toEqual({ allowed: true });
    expect(await decide(a, caller('deployer'), 'stop', 'deploy')).toEqual({ allowed: true });
    expect(await decide(a, caller('starter'), 'start', 'deploy')).toEqual({ allowed: true });
    expect(await decide(a, caller('starter'), 'stop', 'deploy')).toEqual({
      allowed: false,
      reason: 'denied: no matching caller role granted stop op for request deploy',
    });
    expect(await decide(a, caller('nothing'), 'start', 'deploy')).toEqual({
      allowed: false,
      reason: 'denied: no matching caller role granted start op for request deploy',
    });
  });

  it('4. any matching role may grant: the first grant wins', async () => {
    expect(await decide(authorizer(), caller('starter', 'deployer'), 'stop', 'deploy')).toEqual({
      allowed: true,
    });
    expect(await decide(authorizer(), caller('nothing', 'platform'), 'stop', 'deploy')).toEqual({
      allowed: true,
    });
  });

  it('4. no role matches: the message lists both sides; role names are case-sensitive', async () => {
    expect(await decide(authorizer(), caller('Deployer', 'dev'), 'start', 'deploy')).toEqual({
      allowed: false,
      reason:
        'denied: no caller role matches deploy ACL: caller has [Deployer dev], deploy requires one of [platform deployer starter nothing]',
    });
    expect(await decide(authorizer(), caller(), 'start', 'deploy')).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('caller has [], deploy requires'),
    });
  });

  it('5. the plugin runs only after a grant; throwing or returning false denies', async () => {
    const seen: Array<[string, string, string]> = [];
    const plugin: PluginAuthorize = (c, op, r) => {
      seen.push([c.name, op, r.type]);
      if (op === 'stop') throw new Error('stops are frozen');
      return true;
    };
    const a = authorizer({ plugin });
    expect(await decide(a, caller('deployer'), 'start', 'deploy')).toEqual({ allowed: true });
    expect(await decide(a, caller('deployer'), 'stop', 'deploy')).toEqual({
      allowed: false,
      reason: 'denied by auth plugin Authorize: stops are frozen',
    });
    // Denied by the ACL first: the plugin is not asked.
    await decide(a, caller('starter'), 'stop', 'deploy');
    expect(seen).toEqual([
      ['u', 'start', 'deploy'],
      ['u', 'stop', 'deploy'],
    ]);
    const no = authorizer({ plugin: async () => false });
    expect(await decide(no, caller('deployer'), 'start', 'deploy')).toEqual({
      allowed: false,
      reason: 'denied by auth plugin Authorize: start not allowed',
    });
  });
});
