import type { SpecSet } from './model.js';

/**
 * Name of the built-in sequence that exists everywhere (the original's docs promised it,
 * the original code never had it). It has no args and no nodes; a user-defined sequence of
 * the same name takes precedence.
 */
export const BUILTIN_NOOP_SEQUENCE = 'noop';

/** True when `name` resolves to the built-in `noop` sequence (no user sequence of that name). */
export function isBuiltinNoopSequence(specs: SpecSet, name: string): boolean {
  return name === BUILTIN_NOOP_SEQUENCE && !specs.sequences.has(name);
}

/** True when a sequence/conditional node may call `name`: a user sequence or the built-in noop. */
export function sequenceExists(specs: SpecSet, name: string): boolean {
  return specs.sequences.has(name) || name === BUILTIN_NOOP_SEQUENCE;
}
