/**
 * The parsed, normalised spec model that the checks, the chain builder and the
 * RM share. Produced by `loadSpecs`; every object keeps its
 * source position so diagnostics can name file and line.
 */

export interface SourcePos {
  /** Path relative to the specs directory. */
  file: string;
  /** 1-based line. */
  line: number;
}

export interface ArgSpec {
  name: string;
  desc: string;
  /** `undefined` when not set; `""` is a set, empty default. */
  default: string | undefined;
  /** `secret: true`: the value must not appear in answers or logs (the RM redacts it). Absent = false. */
  secret?: boolean;
  /**
   * `pattern:` a JavaScript regular expression (`u` flag) that a caller-given value
   * must match in full; absent when not set. Checked by the chain builder at create.
   */
  pattern?: string;
  pos: SourcePos;
}

export interface AclSpec {
  role: string;
  admin: boolean;
  ops: string[];
  pos: SourcePos;
}

export interface NodeArg {
  expected: string;
  /** Defaults to `expected`. */
  given: string;
}

export interface NodeSet {
  arg: string;
  /** Defaults to `arg`. */
  as: string;
}

export type NodeCategory = 'job' | 'sequence' | 'conditional';

/** One `each:` entry, already split: `list:element`. */
export interface EachSpec {
  list: string;
  element: string;
}

export interface NodeSpec {
  name: string;
  category: NodeCategory;
  /** Job type (job) or sequence name (sequence); undefined for conditionals. */
  type: string | undefined;
  args: NodeArg[];
  sets: NodeSet[];
  deps: string[];
  each: EachSpec[];
  /** Max parallel expansions per batch; undefined = all at once. */
  parallel: number | undefined;
  /** Job retries (job nodes) or sequence retries (sequence/conditional nodes). */
  retry: number;
  /** Normalised: `"0s"` when retry > 0 and none given; `""` when retry is 0 and none given. */
  retryWait: string;
  /**
   * `retryBackoff:` how the wait grows between retries: `constant` (the default: always
   * `retryWait`) or `exponential` (`retryWait` doubling per retry, capped by `retryWaitMax`,
   * with equal jitter). Absent when not set.
   */
  retryBackoff?: string;
  /** `retryWaitMax:` the cap of an exponential backoff's wait; absent when not set. */
  retryWaitMax?: string;
  /**
   * `timeout:` a job node: the longest one try may run; a sequence or conditional node: the
   * longest one try of the called sequence may run. Absent when not set.
   */
  timeout?: string;
  /** Conditional: the job arg whose value selects the branch. */
  if: string | undefined;
  /** Conditional: value → sequence name; key `default` is the fallback. */
  eq: Record<string, string>;
  pos: SourcePos;
  /**
   * What the file said before normalisation, for the static checks (null entries, bad
   * `each` shapes, an invalid category). Absent on hand-built specs; the checks then
   * fall back to the normalised fields.
   */
  raw?: NodeRaw;
}

/** One `args` entry as written; `null` entries are kept so N5 can report them. */
export interface RawNodeArg {
  expected: string | undefined;
  given: string | undefined;
  line: number;
}

/** One `sets` entry as written. */
export interface RawNodeSet {
  arg: string | undefined;
  as: string | undefined;
  line: number;
}

export interface NodeRaw {
  /** `category` as written (may be missing or not one of the three categories). */
  category: string | undefined;
  /** `each` entries as written; `undefined` when the key is absent or null (N19). */
  each: string[] | undefined;
  /** `args` entries; `null` = a null list entry, with its line. */
  args: Array<RawNodeArg | { null: true; line: number }>;
  sets: Array<RawNodeSet | { null: true; line: number }>;
  /** Line of each key present in the node, e.g. `{ retryWait: 12 }`. */
  lines: Record<string, number>;
}

export interface SequenceSpec {
  name: string;
  /** File (relative to the specs dir) that defines it. */
  file: string;
  request: boolean;
  args: { required: ArgSpec[]; optional: ArgSpec[]; static: ArgSpec[] };
  acl: AclSpec[];
  /**
   * `lock:` names of the request's args whose values it locks: at most one unfinished
   * request holds a given (arg, value) at a time (a list-valued arg: one lock per element).
   * Empty when not set.
   */
  lock?: string[];
  /** `lockMode:` what a create does when a lock is held: `wait` (PENDING until free; default) or `fail` (409). */
  lockMode?: string;
  /** `notify:` webhook URLs the RM calls when a request of this type reaches a final state. Empty when not set. */
  notify?: string[];
  /** Line of each sequence-level key present, e.g. `{ lock: 4 }`. */
  lines?: Record<string, number>;
  /** Nodes in file order. */
  nodes: Map<string, NodeSpec>;
  /**
   * `timeout:` the longest a request of this type may run (request sequences only; it does
   * not apply when the sequence is called from a node). Absent when not set.
   */
  timeout?: string;
  /** Line of the `timeout:` key, when set. */
  timeoutLine?: number;
  pos: SourcePos;
}

/** All sequences of a specs directory, by name. */
export interface SpecSet {
  sequences: Map<string, SequenceSpec>;
}

export type Severity = 'error' | 'warning';

/** One linter / loader finding. */
export interface Diagnostic {
  severity: Severity;
  /** Stable check id, e.g. `S1`, `N14`, `G-cycle`, `parse`. */
  check: string;
  file: string;
  line: number;
  sequence?: string;
  node?: string;
  message: string;
}
