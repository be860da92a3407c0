/**
 * Folds a job chain into what the DAG shows. Jobs belong to nested groups:
 *  - a sequence: the jobs sharing a sequenceId (the id of its first job); the
 *    request's own sequence is the root and never folds;
 *  - an `each` group: the iterations of one node expanded over a list (sibling
 *    sequences or jobs of the same node name), with their `repeat_<node>` joins.
 * A folded group is drawn as one node with counts; only visible nodes are laid out,
 * so a 7,000-job chain opens as a handful of nodes.
 */
import type { LiveState } from './job-state.js';
import type { Chain, Job } from './wire.js';

interface Group {
  key: string;
  kind: 'sequence' | 'each';
  label: string;
  /** Enclosing group; undefined for the root sequence. */
  parent: string | undefined;
  /** Jobs in this group and all groups inside it. */
  size: number;
  /** Direct child groups. */
  children: number;
}

export interface Structure {
  groups: Map<string, Group>;
  /** Job id → its innermost group. */
  groupOf: Map<string, string>;
  rootKey: string;
  /** Job ids in chain order. */
  order: string[];
  edges: Array<[string, string]>;
}

const WRAPPER = /^(?:sequence|conditional)_(.+)_begin$/;
const REPEAT = /^repeat_(.+)_(?:begin|end)$/;

const seqKey = (id: string) => `s:${id}`;
const eachKey = (parentSeq: string, node: string) => `e:${parentSeq}:${node}`;

/** Groups of a chain (computed once: the chain never changes). */
export function structureOf(chain: Pick<Chain, 'jobs' | 'adjacencyList'>): Structure {
  const jobs = chain.jobs;
  const order = Object.keys(jobs);
  const edges: Array<[string, string]> = [];
  const pred = new Map<string, string>();
  for (const from in chain.adjacencyList) {
    for (const to of chain.adjacencyList[from] ?? []) {
      edges.push([from, to]);
      if (!pred.has(to)) pred.set(to, from);
    }
  }
  const root = order.find((id) => !pred.has(id));
  const rootSeq = root ? (jobs[root] as Job).sequenceId : '';

  // Parent sequence of each sequence: the sequence of its first job's predecessor.
  const parentSeq = new Map<string, string>();
  for (const id of order) {
    const job = jobs[id] as Job;
    if (job.sequenceId !== id || id === root) continue;
    const p = pred.get(id);
    if (p !== undefined) parentSeq.set(id, (jobs[p] as Job).sequenceId);
  }

  // `each` nodes: a parent sequence with repeat_<node> joins, or several sequences/jobs of one node name.
  const eachNodes = new Set<string>();
  const siblings = new Map<string, number>();
  const bump = (k: string) => siblings.set(k, (siblings.get(k) ?? 0) + 1);
  for (const id of order) {
    const job = jobs[id] as Job;
    const rep = REPEAT.exec(job.name);
    if (rep) eachNodes.add(eachKey(job.sequenceId, rep[1] as string));
    if (job.sequenceId === id && id !== root) {
      const w = WRAPPER.exec(job.name);
      const p = parentSeq.get(id);
      if (w && p !== undefined) bump(eachKey(p, w[1] as string));
    }
  }
  for (const [k, n] of siblings) if (n > 1) eachNodes.add(k);

  const groups = new Map<string, Group>();
  const add = (key: string, kind: Group['kind'], label: string, parent: string | undefined) => {
    if (!groups.has(key)) groups.set(key, { key, kind, label, parent, size: 0, children: 0 });
  };
  add(seqKey(rootSeq), 'sequence', jobs[rootSeq]?.name ?? 'request', undefined);
  // Container of a sequence: its `each` group when it is one iteration, else its parent sequence.
  const containerOfSeq = (seq: string): string => {
    const p = parentSeq.get(seq);
    if (p === undefined) return seqKey(rootSeq);
    const w = WRAPPER.exec((jobs[seq] as Job).name);
    const ek = w ? eachKey(p, w[1] as string) : undefined;
    return ek && eachNodes.has(ek) ? ek : seqKey(p);
  };
  const ensureSeq = (seq: string): string => {
    const key = seqKey(seq);
    if (groups.has(key)) return key;
    const parent = containerOfSeq(seq);
    ensureContainer(parent);
    const w = WRAPPER.exec(jobs[seq]?.name ?? '');
    add(key, 'sequence', w ? (w[1] as string) : (jobs[seq]?.name ?? seq), parent);
    return key;
  };
  const ensureContainer = (key: string): void => {
    if (groups.has(key)) return;
    if (key.startsWith('s:')) {
      ensureSeq(key.slice(2));
      return;
    }
    const [, seq, node] = /^e:([^:]*):(.*)$/.exec(key) as RegExpExecArray;
    const parent = ensureSeq(seq as string);
    add(key, 'each', node as string, parent);
  };

  const groupOf = new Map<string, string>();
  for (const id of order) {
    const job = jobs[id] as Job;
    let key: string;
    const rep = REPEAT.exec(job.name);
    const asEach = eachKey(job.sequenceId, job.name);
    if (rep) key = eachKey(job.sequenceId, rep[1] as string);
    else if (job.sequenceId === rootSeq || !parentSeq.has(job.sequenceId)) key = seqKey(rootSeq);
    else key = seqKey(job.sequenceId);
    // A job node expanded over a list: its iterations form the `each` group.
    if (!rep && eachNodes.has(asEach) && job.sequenceId !== id) key = asEach;
    ensureContainer(key);
    groupOf.set(id, key);
    for (let g: Group | undefined = groups.get(key); g; g = g.parent ? groups.get(g.parent) : undefined)
      g.size++;
  }
  for (const g of groups.values()) if (g.parent) (groups.get(g.parent) as Group).children++;
  return { groups, groupOf, rootKey: seqKey(rootSeq), order, edges };
}

/** Chains up to this many jobs open fully expanded. */
export const SMALL_CHAIN = 80;
/** In larger chains, sequences with more jobs than this start folded (lists and their iterations always do). */
const BIG_SEQUENCE = 12;

/** Whether a group starts folded. */
function foldedByDefault(s: Structure, g: Group): boolean {
  if (g.key === s.rootKey) return false;
  if (s.order.length <= SMALL_CHAIN) return false;
  if (g.kind === 'each' || g.size > BIG_SEQUENCE) return true;
  // One iteration of a list: expanding the list shows one node per iteration, not all their jobs.
  return s.groups.get(g.parent ?? '')?.kind === 'each';
}

/** The user's choices on top of the defaults: key → folded. */
export type FoldChoices = ReadonlyMap<string, boolean>;

export function isFolded(s: Structure, key: string, choices: FoldChoices): boolean {
  const g = s.groups.get(key);
  if (!g || key === s.rootKey) return false;
  return choices.get(key) ?? foldedByDefault(s, g);
}

export type VisibleNode =
  | { kind: 'job'; id: string; jobId: string }
  | { kind: 'group'; id: string; group: Group };

export interface Visible {
  nodes: VisibleNode[];
  edges: Array<[string, string]>;
  /** Job id → the visible node that shows it. */
  shownBy: Map<string, string>;
}

/** The visible graph: each job is drawn as itself or by its outermost folded group. */
export function visibleGraph(s: Structure, choices: FoldChoices): Visible {
  // Outermost folded group per group, top-down with memo (depth is small).
  const rep = new Map<string, string | null>();
  const repOf = (key: string): string | null => {
    const known = rep.get(key);
    if (known !== undefined) return known;
    const g = s.groups.get(key) as Group;
    const above = g.parent ? repOf(g.parent) : null;
    const r = above ?? (isFolded(s, key, choices) ? key : null);
    rep.set(key, r);
    return r;
  };
  const nodes: VisibleNode[] = [];
  const shownBy = new Map<string, string>();
  const seen = new Set<string>();
  for (const id of s.order) {
    const r = repOf(s.groupOf.get(id) as string);
    const nodeId = r ?? id;
    shownBy.set(id, nodeId);
    if (seen.has(nodeId)) continue;
    seen.add(nodeId);
    nodes.push(
      r ? { kind: 'group', id: r, group: s.groups.get(r) as Group } : { kind: 'job', id, jobId: id },
    );
  }
  const edgeSet = new Set<string>();
  const edges: Array<[string, string]> = [];
  for (const [a, b] of s.edges) {
    const va = shownBy.get(a);
    const vb = shownBy.get(b);
    if (va === undefined || vb === undefined || va === vb) continue;
    const k = `${va}\u0000${vb}`;
    if (edgeSet.has(k)) continue;
    edgeSet.add(k);
    edges.push([va, vb]);
  }
  return { nodes, edges, shownBy };
}

export type StateCounts = Record<LiveState, number>;

const emptyCounts = (): StateCounts => ({
  pending: 0,
  running: 0,
  retry: 0,
  complete: 0,
  fail: 0,
  stopped: 0,
});

/** State counts per visible node (a job node counts itself). */
export function countsByNode(v: Visible, states: ReadonlyMap<string, LiveState>): Map<string, StateCounts> {
  const out = new Map<string, StateCounts>();
  for (const [jobId, nodeId] of v.shownBy) {
    let c = out.get(nodeId);
    if (!c) {
      c = emptyCounts();
      out.set(nodeId, c);
    }
    c[states.get(jobId) ?? 'pending']++;
  }
  return out;
}

/** The state a folded group is coloured by: the most pressing state among its jobs. */
export function groupState(c: StateCounts, requestRunning: boolean): LiveState {
  if (c.fail > 0) return 'fail';
  if (c.running > 0) return 'running';
  if (c.retry > 0) return 'retry';
  if (c.stopped > 0) return 'stopped';
  // Partly done while the request runs: work is under way between its jobs.
  if (c.pending > 0) return c.complete > 0 && requestRunning ? 'running' : 'pending';
  return 'complete';
}
