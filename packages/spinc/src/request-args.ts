/** `name=value` request args for `start`: parsing, checking against the spec, the printed command. */
import type { RequestArg, RequestSpec } from '@spincycle/protocol';
import { UsageError } from './errors.js';
import { quoteValue } from './options.js';

/** Split `name=value` on the first `=`. */
export function splitArg(token: string): [string, string] {
  const i = token.indexOf('=');
  if (i < 0)
    throw new UsageError(`Invalid command arg: ${token}: split on = produced 1 values, expected 2 (key=val)`);
  if (i === 0) throw new UsageError(`Invalid command arg: ${token}: empty arg name, expected key=val`);
  return [token.slice(0, i), token.slice(i + 1)];
}

/** Parse the `name=value` tokens, in order; a name given twice is a usage error. */
export function parseArgTokens(tokens: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const token of tokens) {
    const [name, value] = splitArg(token);
    if (args.has(name)) throw new UsageError(`Request arg '${name}' given more than once`);
    args.set(name, value);
  }
  return args;
}

/** Required and optional args of a request spec (static ones are never listed by the RM anyway). */
export function userArgs(spec: RequestSpec): { required: RequestArg[]; optional: RequestArg[] } {
  const args = spec.Args ?? [];
  return {
    required: args.filter((a) => a.Type === 'required'),
    optional: args.filter((a) => a.Type === 'optional'),
  };
}

/** Names given that the request does not take. */
export function unknownArgs(spec: RequestSpec, given: ReadonlyMap<string, string>): string[] {
  const known = new Set((spec.Args ?? []).filter((a) => a.Type !== 'static').map((a) => a.Name));
  return [...given.keys()].filter((k) => !known.has(k));
}

export function checkUnknownArgs(spec: RequestSpec, given: ReadonlyMap<string, string>): void {
  const unknown = unknownArgs(spec, given);
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown request args: ${unknown.join(', ')}. Run 'spinc help ${spec.Name}' to list valid args.`,
    );
  }
}

/** Required args without a non-empty value. */
export function missingRequired(spec: RequestSpec, values: ReadonlyMap<string, string>): string[] {
  return userArgs(spec)
    .required.filter((a) => (values.get(a.Name) ?? '') === '')
    .map((a) => a.Name);
}

export function defaultText(arg: RequestArg): string {
  return arg.Default === null || arg.Default === undefined ? '' : String(arg.Default);
}

/**
 * The args to send: required args with their values, then optional args that
 * were given or entered (defaults are left to the server), all as strings.
 */
export function createArgs(spec: RequestSpec, values: ReadonlyMap<string, string>): Record<string, string> {
  const { required, optional } = userArgs(spec);
  const out: Record<string, string> = {};
  for (const a of required) {
    const v = values.get(a.Name);
    if (v !== undefined && v !== '') out[a.Name] = v;
  }
  for (const a of optional) {
    const v = values.get(a.Name);
    if (v !== undefined) out[a.Name] = v;
  }
  return out;
}

/** What spinc shows in place of the value of a secret arg (the RM shows the same). */
const REDACTED = '[redacted]';

/** `args` with the values of the spec's secret args (`Secret: true` in the request list) replaced, for printing. */
export function shownArgs(spec: RequestSpec, args: Record<string, string>): Record<string, string> {
  const secret = new Set((spec.Args ?? []).filter((a) => a.Secret === true).map((a) => a.Name));
  if (secret.size === 0) return args;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) out[k] = secret.has(k) ? REDACTED : v;
  return out;
}

/** `spinc <options>start <request> k=v ...`: the command that does the same without prompts (secret values redacted). */
export function startCommandLine(
  repeatable: string,
  spec: RequestSpec,
  args: Record<string, string>,
): string {
  const words = Object.entries(shownArgs(spec, args)).map(([k, v]) => `${k}=${quoteValue(v)}`);
  return `spinc ${repeatable}start ${spec.Name}${words.length ? ` ${words.join(' ')}` : ''}`;
}

/** `k=v ...` of request args from a request's RequestArg list (for status/info). */
export function formatArgList(args: readonly RequestArg[] | undefined, types: readonly string[]): string {
  return (args ?? [])
    .filter((a) => types.includes(a.Type))
    .map(
      (a) =>
        `${a.Name}=${quoteValue(a.Value === null || a.Value === undefined ? '' : typeof a.Value === 'string' ? a.Value : JSON.stringify(a.Value))}`,
    )
    .join(' ');
}
