/**
 * Request args, checked before any job is made and stricter than the original:
 * a missing required arg, an arg the request does not declare, an attempt to
 * set a static arg, a value of the wrong type and a value that does not match
 * its arg's `pattern` are all rejected (HTTP 400).
 */
import type { RequestArg } from '@spincycle/protocol';
import { type ArgSpec, argPatternRegExp, type SequenceSpec, type SpecSet } from './deps.js';
import {
  ArgPatternError,
  ArgTypeError,
  MissingArgError,
  NotARequestError,
  StaticArgError,
  UndeclaredArgError,
  UnknownRequestTypeError,
} from './errors.js';

/** The request's sequence; throws UnknownRequestTypeError / NotARequestError. */
export function requestSequence(specs: SpecSet, type: string): SequenceSpec {
  if (typeof type !== 'string' || type === '') {
    throw new UnknownRequestTypeError('invalid create request: request type is empty', { requestType: '' });
  }
  const seq = specs.sequences.get(type);
  if (!seq)
    throw new UnknownRequestTypeError(`cannot find specs for request: ${type}`, { requestType: type });
  if (!seq.request) throw new NotARequestError(`${type} is not a request`, { requestType: type });
  return seq;
}

/**
 * Request arg values may be strings, numbers (finite; bigint for integers
 * beyond 2^53, as the protocol's lossless JSON parser produces them), booleans,
 * or flat lists of those. `null`, objects and nested lists are rejected: no
 * built-in or documented job consumes them, and they would make the archived
 * create request and the `arg` filter of find ambiguous.
 */
function scalarKind(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : 'a non-finite number';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'a list' : 'an object';
    default:
      return value === undefined ? 'undefined' : `a ${typeof value}`;
  }
}

function valueProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return scalarKind(value);
  for (let i = 0; i < value.length; i++) {
    const kind = scalarKind(value[i]);
    if (kind) return `a list whose element ${i} is ${kind}`;
  }
  return undefined;
}

export interface ResolvedArgs {
  /** The RequestArg records to archive and show. */
  requestArgs: RequestArg[];
  /** Initial job args: a shallow copy of the given args (defaults are filled in by the builder). */
  jobArgs: Record<string, unknown>;
  /** Names of the request's args declared `secret: true` (see secretArgNames). */
  secretArgs: string[];
}

/**
 * Names of the request's args (required, optional and static) declared
 * `secret: true`, in declaration order. Their values must be kept out of
 * answers and logs: the `Value` (and `Default`) of the RequestArg records of
 * these names, and the same values wherever jobs received them (job args under
 * the node's `expected` name, job output).
 */
export function secretArgNames(seq: SequenceSpec): string[] {
  const out: string[] = [];
  for (const list of [seq.args.required, seq.args.optional, seq.args.static])
    for (const a of list) if (a.secret === true && a.name) out.push(a.name);
  return out;
}

const patterns = new WeakMap<ArgSpec, RegExp>();

/** The arg's compiled pattern, once per ArgSpec; undefined when it has none. */
function patternOf(arg: ArgSpec): RegExp | undefined {
  if (arg.pattern === undefined) return undefined;
  let re = patterns.get(arg);
  if (!re) {
    re = argPatternRegExp(arg.pattern);
    patterns.set(arg, re);
  }
  return re;
}

/** Whether a checked value (scalar or flat list) matches `re` in full; list elements each must. */
function matchesPattern(re: RegExp, value: unknown): boolean {
  const values: unknown[] = Array.isArray(value) ? value : [value];
  for (const v of values) if (!re.test(String(v))) return false;
  return true;
}

/**
 * Checks the caller's args against the request's declaration and returns the
 * RequestArg list (Pos is the position within its kind; Desc is the spec's
 * `desc`, where the original always wrote "") and the initial job args.
 * Checks run in this order: args is an object, static args set, undeclared
 * args, missing required args, value types.
 */
export function resolveRequestArgs(seq: SequenceSpec, given: Record<string, unknown>): ResolvedArgs {
  const requestType = seq.name;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ArgTypeError(`request ${requestType}: args must be an object of arg name to value`, {
      requestType,
    });
  }
  const { required, optional } = seq.args;
  const statics = seq.args.static;
  const keys = Object.keys(given);

  if (keys.length > 0) {
    const declared = new Set<string>();
    for (const a of required) declared.add(a.name);
    for (const a of optional) declared.add(a.name);
    const staticNames = new Set(statics.map((a) => a.name));
    const setStatic = keys.filter((k) => staticNames.has(k) && !declared.has(k));
    if (setStatic.length > 0) {
      throw new StaticArgError(
        `request ${requestType}: ${plural(setStatic, 'arg')} ${quoteList(setStatic)} ${setStatic.length === 1 ? 'is' : 'are'} static and cannot be set`,
        { requestType, arg: setStatic[0] },
      );
    }
    const undeclared = keys.filter((k) => !declared.has(k));
    if (undeclared.length > 0) {
      const known = [...declared];
      throw new UndeclaredArgError(
        `request ${requestType}: ${plural(undeclared, 'arg')} ${quoteList(undeclared)} not declared by the request (its args: ${known.length > 0 ? quoteList(known) : 'none'})`,
        { requestType, arg: undeclared[0] },
      );
    }
  }

  const requestArgs: RequestArg[] = [];
  for (const [i, a] of required.entries()) {
    if (!Object.hasOwn(given, a.name)) {
      throw new MissingArgError(`request ${requestType}: required arg '${a.name}' not set`, {
        requestType,
        arg: a.name,
      });
    }
    requestArgs.push({
      Pos: i,
      Name: a.name,
      Desc: a.desc ?? '',
      Type: 'required',
      Given: true,
      Default: null,
      Value: given[a.name],
    });
  }
  for (const [i, a] of optional.entries()) {
    const isGiven = Object.hasOwn(given, a.name);
    requestArgs.push({
      Pos: i,
      Name: a.name,
      Desc: a.desc ?? '',
      Type: 'optional',
      Given: isGiven,
      Default: a.default ?? null,
      Value: isGiven ? given[a.name] : (a.default ?? null),
    });
  }
  for (const [i, a] of statics.entries()) {
    requestArgs.push({
      Pos: i,
      Name: a.name,
      Desc: a.desc ?? '',
      Type: 'static',
      Given: false,
      Default: null,
      Value: a.default ?? null,
    });
  }

  const jobArgs: Record<string, unknown> = {};
  for (const k of keys) {
    const v = given[k];
    const problem = valueProblem(v);
    if (problem) {
      throw new ArgTypeError(
        `request ${requestType}: arg '${k}' is ${problem}; request arg values must be strings, numbers, booleans, or lists of those`,
        { requestType, arg: k },
      );
    }
    jobArgs[k] = v;
  }
  for (const a of [...required, ...optional]) {
    if (!Object.hasOwn(given, a.name)) continue;
    const re = patternOf(a);
    if (re && !matchesPattern(re, given[a.name])) {
      // The value is left out: the arg may be secret.
      throw new ArgPatternError(
        `request ${requestType}: arg '${a.name}' does not match its pattern ${JSON.stringify(a.pattern)}`,
        { requestType, arg: a.name },
      );
    }
  }
  return { requestArgs, jobArgs, secretArgs: secretArgNames(seq) };
}

function plural(list: string[], word: string): string {
  return list.length === 1 ? word : `${word}s`;
}

function quoteList(list: string[]): string {
  return list.map((s) => `'${s}'`).join(', ');
}
