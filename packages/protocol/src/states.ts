/**
 * Request and job states. The numeric values are persisted in the database and
 * sent on the wire by every Spin Cycle client: NEVER renumber them.
 */
export const State = {
  UNKNOWN: 0,
  PENDING: 1,
  RUNNING: 2,
  COMPLETE: 3,
  FAIL: 4,
  /** Unused (formerly TIMEOUT); never produced by the system. */
  RESERVED: 5,
  STOPPED: 6,
  /** Requests and chains only; jobs are never SUSPENDED. */
  SUSPENDED: 7,
} as const;

export type StateName = keyof typeof State;
export type StateValue = (typeof State)[StateName];

const NAMES: readonly StateName[] = [
  'UNKNOWN',
  'PENDING',
  'RUNNING',
  'COMPLETE',
  'FAIL',
  'RESERVED',
  'STOPPED',
  'SUSPENDED',
];

/** Upper-case name of a state value; `UNKNOWN` for values outside the table. */
export function stateName(value: number): StateName {
  return NAMES[value] ?? 'UNKNOWN';
}

/** Exact, case-sensitive lookup as the RM API does it; `undefined` when not a state name. */
export function stateValue(name: string): StateValue | undefined {
  return Object.hasOwn(State, name) ? State[name as StateName] : undefined;
}

export function isStateValue(value: unknown): value is StateValue {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < NAMES.length;
}

/** A state read back from storage (numbers this system wrote); UNKNOWN for anything else. */
export function storedState(value: unknown): StateValue {
  const n = Number(value);
  return isStateValue(n) ? n : State.UNKNOWN;
}

/** States a request or job can end in. */
export const FINAL_STATES: ReadonlySet<number> = new Set([State.COMPLETE, State.FAIL, State.STOPPED]);

export function isFinalState(value: number): boolean {
  return FINAL_STATES.has(value);
}

export const ALL_STATE_NAMES: readonly StateName[] = NAMES;

/** Request operations checked by authorization (`read`: its args, job chain, job logs and events). */
export type RequestOp = 'start' | 'stop' | 'read' | 'retry';

/** Kinds of request argument. */
export type RequestArgType = 'required' | 'optional' | 'static';
