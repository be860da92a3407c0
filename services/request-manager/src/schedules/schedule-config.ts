/**
 * The `schedules` config key: a list of schedules, each
 * `{name, cron, timezone, type, args, missed, roles}`, checked once at boot
 * (cron syntax, IANA time zone, a known request type) into typed entries.
 */
import { ConfigError } from '@spincycle/service-kit';
import { Cron } from 'croner';

type MissedPolicy = 'skip' | 'run-once';

export interface ScheduleDef {
  name: string;
  /** Five fields (minutes) or six (with seconds first), croner syntax. */
  cron: string;
  timezone: string;
  /** Request type to create. */
  type: string;
  args: Record<string, unknown>;
  /** Runs missed while no RM ran: none (`skip`, the default) or one (`run-once`). */
  missed: MissedPolicy;
  /** Roles of the caller `schedule:<name>` that creates the requests (default: `auth.admin_roles`). */
  roles?: string[];
  /** The parsed expression (paused: it only computes times). */
  pattern: Cron;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const KEYS = new Set(['name', 'cron', 'timezone', 'type', 'args', 'missed', 'roles']);

/** Typed, checked schedules; `isRequestType` says whether a type exists. Throws ConfigError naming the entry. */
export function parseSchedules(
  raw: readonly Record<string, unknown>[],
  isRequestType: (type: string) => boolean,
): ScheduleDef[] {
  const seen = new Set<string>();
  return raw.map((e, i) => {
    const where = `config: 'schedules' entry ${i + 1}${typeof e.name === 'string' ? ` (${e.name})` : ''}`;
    const bad = (why: string) => new ConfigError(`${where}: ${why}`);
    for (const k of Object.keys(e)) if (!KEYS.has(k)) throw bad(`unknown key '${k}'`);
    const text = (k: string) => {
      const v = e[k];
      if (typeof v !== 'string' || v.trim() === '') throw bad(`'${k}' must be a non-empty string`);
      return v.trim();
    };
    const name = text('name');
    if (!NAME.test(name)) throw bad("'name' must be letters, digits, '_', '.' or '-' (at most 64)");
    if (seen.has(name)) throw bad(`'name' ${name} is used by an earlier schedule`);
    seen.add(name);
    const timezone = text('timezone');
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      throw bad(`'timezone' ${JSON.stringify(timezone)} is not an IANA time zone (e.g. Europe/Berlin, UTC)`);
    }
    const cron = text('cron');
    let pattern: Cron;
    try {
      pattern = new Cron(cron, { timezone, paused: true });
    } catch (err) {
      throw bad(`'cron' ${JSON.stringify(cron)}: ${(err as Error).message}`);
    }
    const type = text('type');
    if (!isRequestType(type)) throw bad(`'type' ${type} is not a request type of the specs`);
    const args = e.args ?? {};
    if (args === null || typeof args !== 'object' || Array.isArray(args)) throw bad("'args' must be a map");
    const missed = e.missed ?? 'skip';
    if (missed !== 'skip' && missed !== 'run-once') throw bad("'missed' must be skip or run-once");
    const roles = e.roles;
    if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string')))
      throw bad("'roles' must be a list of strings");
    return { name, cron, timezone, type, args: args as Record<string, unknown>, missed, roles, pattern };
  });
}
