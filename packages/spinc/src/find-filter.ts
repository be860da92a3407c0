/** `find` filters: `filter=value` tokens to an RM find query (messages as the original's). */
import { ALL_STATE_NAMES, type FindRequestsFilter, stateValue } from '@spincycle/protocol';
import { UsageError } from './errors.js';
import type { TimeZoneMode } from './output.js';

export const FIND_FILTERS = [
  'type',
  'states',
  'user',
  'args',
  'since',
  'until',
  'limit',
  'offset',
  'cursor',
  'timezone',
] as const;
export const DEFAULT_FIND_LIMIT = 10;

export interface FindQuery {
  filter: FindRequestsFilter;
  timezone: TimeZoneMode;
}

const TIME_HELP = "expected ISO 8601 such as 2024-05-01T12:00:00Z, or 'YYYY-MM-DD HH:MM:SS UTC'";

const pad = (s: string | undefined, n = 2) => (s ?? '0').padStart(n, '0');

/**
 * Parse a time filter. Accepted: RFC 3339 / ISO 8601 with `Z` or an offset;
 * the original's `YYYY-MM-DD HH:MM:SS UTC`; and a date or date-time without a
 * zone (with `T` or a space, seconds optional), read in `tz`.
 */
export function parseFilterTime(text: string, tz: TimeZoneMode): Date | undefined {
  const t = text.trim();
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(?:\s*(Z|z|UTC|[+-]\d{2}:?\d{2}))?$/.exec(
      t,
    );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (zone !== undefined && h === undefined) return undefined;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
  let date: Date;
  if (zone === undefined) {
    date =
      tz === 'utc'
        ? new Date(Date.UTC(Number(y), month - 1, day, hour, minute, second, ms))
        : new Date(Number(y), month - 1, day, hour, minute, second, ms);
  } else {
    const offset =
      zone === 'Z' || zone === 'z' || zone === 'UTC'
        ? 'Z'
        : zone.length === 5
          ? `${zone.slice(0, 3)}:${zone.slice(3)}`
          : zone;
    date = new Date(`${y}-${mo}-${d}T${pad(h)}:${pad(mi)}:${pad(s)}.${String(ms).padStart(3, '0')}${offset}`);
  }
  if (Number.isNaN(date.getTime())) return undefined;
  // Reject dates that rolled over (2024-02-31) by checking the day survived.
  const check =
    zone === undefined && tz === 'local' ? date.getDate() : zone === undefined ? date.getUTCDate() : day;
  return check === day ? date : undefined;
}

function parseCount(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value.trim()))) {
    throw new UsageError(`Invalid ${name} '${value}', expected value >= 0`);
  }
  return Number(value.trim());
}

/** Parse `find` tokens; every mistake is a UsageError (exit 2). */
export function parseFindFilters(tokens: readonly string[]): FindQuery {
  const seen = new Map<string, string>();
  for (const token of tokens) {
    const i = token.indexOf('=');
    if (i <= 0)
      throw new UsageError(
        `Invalid command arg ${token}: expected arg of form filter=value (should contain exactly one '=')`,
      );
    const key = token.slice(0, i);
    const value = token.slice(i + 1);
    if (!(FIND_FILTERS as readonly string[]).includes(key)) {
      throw new UsageError(`Invalid arg '${key}': valid filters are ${FIND_FILTERS.join(', ')}`);
    }
    if (seen.has(key)) throw new UsageError(`Filter '${key}' specified multiple times`);
    seen.set(key, value);
  }

  let timezone: TimeZoneMode = 'utc';
  const tzText = seen.get('timezone');
  if (tzText !== undefined) {
    const t = tzText.trim().toLowerCase();
    if (t !== 'utc' && t !== 'local')
      throw new UsageError(`Invalid timezone '${tzText}', expected utc or local`);
    timezone = t;
  }

  const filter: FindRequestsFilter = { limit: DEFAULT_FIND_LIMIT };
  const type = seen.get('type');
  if (type !== undefined && type !== '') filter.type = type;
  const user = seen.get('user');
  if (user !== undefined && user !== '') filter.user = user;

  const states = seen.get('states');
  if (states !== undefined && states.trim() !== '') {
    filter.states = states.split(',').map((s) => {
      const name = s.trim().toUpperCase();
      if (stateValue(name) === undefined) {
        throw new UsageError(`Invalid state '${s.trim()}', expected one of: ${ALL_STATE_NAMES.join(', ')}`);
      }
      return name;
    });
  }

  const args = seen.get('args');
  if (args !== undefined && args.trim() !== '') {
    const pairs: Record<string, string> = {};
    for (const pair of args.split(',')) {
      const i = pair.indexOf('=');
      if (i <= 0)
        throw new UsageError(`Invalid request arg '${pair}': expected format key1=value1,key2=value2`);
      pairs[pair.slice(0, i)] = pair.slice(i + 1);
    }
    filter.args = pairs;
  }

  for (const key of ['since', 'until'] as const) {
    const text = seen.get(key);
    if (text === undefined || text.trim() === '') continue;
    const date = parseFilterTime(text, timezone);
    if (!date) throw new UsageError(`Invalid time ${text}, ${TIME_HELP}`);
    filter[key] = date;
  }

  const limit = seen.get('limit');
  if (limit !== undefined) filter.limit = parseCount('limit', limit);
  const offset = seen.get('offset');
  if (offset !== undefined) filter.offset = parseCount('offset', offset);
  const cursor = seen.get('cursor');
  if (cursor !== undefined && cursor !== '') {
    if (filter.offset) throw new UsageError('Invalid cursor: cannot be combined with offset');
    filter.cursor = cursor;
  }
  return { filter, timezone };
}
