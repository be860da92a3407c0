/** Millisecond durations as job args take them, and a Go-like rendering for messages. */
import { isDuration, parseDurationMs } from '@spincycle/protocol';

const PLAIN_MS_RE = /^\d+(\.\d+)?$/;

/**
 * The longest duration taken: the largest integer a double holds exactly
 * (~285,000 years). Longer values cannot travel in a job's bytes unchanged (a
 * bigger JSON integer comes back as a bigint, or rounded), so they are refused
 * at create, where the caller gets a 400 naming the arg.
 */
export const MAX_MILLIS = Number.MAX_SAFE_INTEGER;

const inRange = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms >= 0 && ms <= MAX_MILLIS ? ms : undefined;

/**
 * A duration in milliseconds from a number (ms), a numeric string (ms) or a
 * Go-style duration string (`500ms`, `30s`, `1m30s`). `undefined` when the
 * value is none of those or is negative, not finite or over `MAX_MILLIS`.
 */
export function toMillis(value: unknown): number | undefined {
  if (typeof value === 'number') return inRange(value);
  if (typeof value === 'bigint')
    return value >= 0n && value <= BigInt(MAX_MILLIS) ? Number(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (PLAIN_MS_RE.test(text)) return inRange(Number(text));
  if (!isDuration(text)) return undefined;
  return inRange(parseDurationMs(text));
}

function trimFraction(n: number, digits: number): string {
  const text = n.toFixed(digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** Go-like duration text: `0s`, `250ms`, `1.5s`, `2m3s`, `1h0m5s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trimFraction(ms, ms < 1 ? 3 : 0)}ms`;
  if (ms < 60_000) return `${trimFraction(ms / 1000, 3)}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = trimFraction((ms % 60_000) / 1000, 3);
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}
