/**
 * The ACL decision procedure (docs/compatibility.md#authorization), case by case: admin roles,
 * unknown types, no ACLs with strict on and off, request admins, ops, role
 * mismatches, the plugin's post-authorization, the owner, `read` and find's read scope.
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
    { role: 'reader', admin: false, ops: ['read'] },
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

// Created by someone else: the caller is not the owner unless a test says so.
const req = (type: string, user = 'creator') => ({ id: 'r1', type, state: 1, user }) as Request;
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
        'denied: no caller role matches deploy ACL: caller has [Deployer dev], deploy requires one of [platform deployer starter nothing reader]',
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

describe('owner and read', () => {
  const owned = (a: AclAuthorizer, c: Caller, op: RequestOp, type: string) =>
    a.authorize(c, op, req(type, c.name));

  it('the owner may stop and read (plugin asked for stop only), never start by ownership', async () => {
    const plugin = vi.fn(() => true);
    const a = authorizer({ strict: true, plugin });
    for (const type of ['deploy', 'open', 'gone']) {
      expect(await owned(a, caller('dev'), 'stop', type)).toEqual({ allowed: true });
      expect(await owned(a, caller('dev'), 'read', type)).toEqual({ allowed: true });
      // Retry is authorized as stop: the owner may retry their request.
      expect(await owned(a, caller('dev'), 'retry', type)).toEqual({ allowed: true });
    }
    expect(plugin).toHaveBeenCalledTimes(6);
    expect(await owned(a, caller('dev'), 'start', 'deploy')).toMatchObject({ allowed: false });
    // The anonymous "" owns nothing.
    const anon = { name: '', roles: ['dev'] };
    expect(await a.authorize(anon, 'read', req('deploy', ''))).toMatchObject({ allowed: false });
  });

  it('strict: read needs an admin role, an ACL admin or a read grant; start and stop do not imply it', async () => {
    const a = authorizer({ strict: true });
    expect(await decide(a, caller('reader'), 'read', 'deploy')).toEqual({ allowed: true });
    expect(await decide(a, caller('platform'), 'read', 'deploy')).toEqual({ allowed: true });
    expect(await decide(a, caller('sre'), 'read', 'gone')).toEqual({ allowed: true });
    expect(await decide(a, caller('deployer'), 'read', 'deploy')).toEqual({
      allowed: false,
      reason: 'denied: no matching caller role granted read op for request deploy',
    });
    expect(await decide(a, caller('reader'), 'read', 'open')).toEqual({
      allowed: false,
      reason: 'denied: request open has no ACLs and strict auth is enabled',
    });
    // Only the read grant: it gives nothing else.
    expect(await decide(a, caller('reader'), 'stop', 'deploy')).toMatchObject({ allowed: false });
  });

  it('not strict: every caller may read; the plugin is never asked for reads', async () => {
    const plugin = vi.fn(() => false);
    const a = authorizer({ plugin });
    expect(await decide(a, caller('dev'), 'read', 'deploy')).toEqual({ allowed: true });
    expect(await decide(authorizer({ strict: true, plugin }), caller('reader'), 'read', 'deploy')).toEqual({
      allowed: true,
    });
    expect(plugin).not.toHaveBeenCalled();
  });

  it('read scope for find: all for admins and when not strict; else own requests and readable types', () => {
    const types = ['deploy', 'open'];
    expect(authorizer({ strict: true }).readScope(caller('sre'), types)).toEqual({ all: true });
    expect(authorizer().readScope(caller('dev'), types)).toEqual({ all: true });
    const strict = authorizer({ strict: true });
    expect(strict.readScope(caller('reader'), types)).toEqual({ all: false, user: 'u', types: ['deploy'] });
    expect(strict.readScope(caller('platform'), types)).toEqual({ all: false, user: 'u', types: ['deploy'] });
    expect(strict.readScope(caller('deployer'), types)).toEqual({ all: false, user: 'u', types: [] });
  });
});
