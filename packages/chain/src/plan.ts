/**
 * What the builder needs of a sequence and of a node, computed once per spec
 * object and cached: node order, dep indices, sinks, defaults, and the names of
 * the structural jobs.
 */
import { type NodeSpec, type SequenceSpec, topologicalOrder } from './deps.js';

/** Names of a begin/end pair of noop jobs. */
export interface Pair {
  begin: string;
  end: string;
}

export function pair(base: string): Pair {
  return { begin: `${base}_begin`, end: `${base}_end` };
}

/** What the builder needs of a sequence, computed once per SequenceSpec object. */
export interface Plan {
  nodes: NodeSpec[];
  /** `<seq>_begin` / `<seq>_end`. */
  own: Pair;
  /** Per node (same index): indices of its deps in `nodes`. */
  deps: number[][];
  /** Nodes nothing depends on: they lead to `<seq>_end`. */
  sinks: number[];
  optional: [string, string][];
  statics: [string, string][];
}

const plans = new WeakMap<SequenceSpec, Plan>();

export function planOf(seq: SequenceSpec): Plan {
  let plan = plans.get(seq);
  if (plan) return plan;
  const nodes = topologicalOrder(seq);
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    index.set(n.name, i);
  });
  const hasDependents = new Array<boolean>(nodes.length).fill(false);
  const deps = nodes.map((n, i) => {
    const out: number[] = [];
    for (const d of n.deps) {
      const k = index.get(d);
      if (k === undefined || k >= i)
        throw new Error(`sequence ${seq.name}: node ${n.name} depends on unknown node ${d}`);
      if (!out.includes(k)) out.push(k);
      hasDependents[k] = true;
    }
    return out;
  });
  const sinks: number[] = [];
  for (let i = 0; i < nodes.length; i++) if (!hasDependents[i]) sinks.push(i);
  const defaults = (list: { name: string; default: string | undefined }[]) =>
    list.filter((a) => a.default !== undefined).map((a): [string, string] => [a.name, a.default as string]);
  plan = {
    nodes,
    own: pair(seq.name),
    deps,
    sinks,
    optional: defaults(seq.args.optional),
    statics: defaults(seq.args.static),
  };
  plans.set(seq, plan);
  return plan;
}

/**
 * The structural job names a node gives rise to (`sequence_<node>_begin`, …),
 * made once per NodeSpec and shared by all its jobs.
 */
export interface NodeNames {
  sequence: Pair;
  conditional: Pair;
  repeat: Pair;
  noop: Pair;
}

const nodeNames = new WeakMap<NodeSpec, NodeNames>();

export function namesOf(node: NodeSpec): NodeNames {
  let names = nodeNames.get(node);
  if (!names) {
    names = {
      sequence: pair(`sequence_${node.name}`),
      conditional: pair(`conditional_${node.name}`),
      repeat: pair(`repeat_${node.name}`),
      noop: pair(`noop_${node.name}`),
    };
    nodeNames.set(node, names);
  }
  return names;
}
