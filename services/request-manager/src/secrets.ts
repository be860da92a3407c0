/**
 * Secret args (`secret: true` in a spec): their values never leave the RM in
 * an answer, a log line or an error. Jobs get the real values (the chain sent
 * to the JR is not touched); everything shown to users goes through these
 * functions, which replace a value, or every occurrence of it in a text, with
 * `[redacted]`.
 */
import type { JobChain, JobLog, RequestArg } from '@spincycle/protocol';
import { argText } from './stores/request-rows.js';

export const REDACTED = '[redacted]';

/** The texts to hide for a request: Value and Default of its secret args, longest first (a secret inside another is hidden whole). */
export function secretValues(args: readonly RequestArg[], names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const out = new Set<string>();
  for (const a of args) {
    if (!names.includes(a.Name)) continue;
    for (const v of [a.Value, a.Default]) if (v !== null && v !== undefined) out.add(argText(v));
  }
  out.delete('');
  return [...out].sort((a, b) => b.length - a.length);
}

/** Values of `given` args that a spec declares secret (to mask error messages of a create). */
export function givenSecretValues(given: Record<string, unknown>, names: readonly string[]): string[] {
  const out = names.filter((n) => given[n] !== undefined && given[n] !== null).map((n) => argText(given[n]));
  return out.filter((t) => t !== '').sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of a secret replaced. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.replaceAll(s, REDACTED);
  return out;
}

/** A copy of a JSON value: strings masked, other values equal to a secret's text replaced whole. */
function redactValue(v: unknown, secrets: readonly string[]): unknown {
  if (typeof v === 'string') return maskText(v, secrets);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = redactValue(x, secrets);
    return out;
  }
  return v !== null && v !== undefined && secrets.includes(argText(v)) ? REDACTED : v;
}

/** A request's RequestArg list as answered: Value and Default of secret args redacted (same keys). */
export function redactArgs(args: RequestArg[], names: readonly string[]): RequestArg[] {
  if (names.length === 0) return args;
  return args.map((a) =>
    names.includes(a.Name)
      ? {
          ...a,
          Default: a.Default === null || a.Default === undefined ? a.Default : REDACTED,
          Value: a.Value === null || a.Value === undefined ? a.Value : REDACTED,
        }
      : a,
  );
}

/**
 * A chain as answered: job args and data masked; a job's serialized bytes
 * that hold a secret are replaced by `[redacted]` (they are base64, so a
 * masked text could not be told from real bytes).
 */
export function redactChain(chain: JobChain, secrets: readonly string[]): JobChain {
  if (secrets.length === 0) return chain;
  // Bytes are mostly JSON, where a secret with quotes, backslashes or control characters is escaped.
  const inBytes = secrets.flatMap((s) => {
    const escaped = JSON.stringify(s).slice(1, -1);
    return escaped === s ? [s] : [s, escaped];
  });
  const jobs: JobChain['jobs'] = {};
  for (const [id, job] of Object.entries(chain.jobs)) {
    const j = { ...job };
    if (j.args) j.args = redactValue(j.args, secrets) as typeof j.args;
    if (j.data) j.data = redactValue(j.data, secrets) as typeof j.data;
    if (j.bytes) {
      const text = Buffer.from(j.bytes, 'base64').toString('latin1');
      const utf8 = Buffer.from(j.bytes, 'base64').toString('utf8');
      if (inBytes.some((s) => utf8.includes(s) || text.includes(s))) j.bytes = REDACTED;
    }
    jobs[id] = j;
  }
  return { ...chain, jobs };
}

/** Masks stdout, stderr and error of job-log entries in place. */
export function maskEntry(e: JobLog, secrets: readonly string[]): void {
  if (secrets.length === 0) return;
  if (e.stdout) e.stdout = maskText(e.stdout, secrets);
  if (e.stderr) e.stderr = maskText(e.stderr, secrets);
  if (e.error) e.error = maskText(e.error, secrets);
}

/** The request list as answered: secret args flagged `Secret: true`, their defaults redacted. */
export function redactSpecArgs(args: RequestArg[], names: readonly string[]): RequestArg[] {
  return redactArgs(args, names).map((a) => (names.includes(a.Name) ? { ...a, Secret: true } : a));
}
