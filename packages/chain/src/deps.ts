/**
 * The types and helpers this package uses from @spincycle/spec and
 * @spincycle/jobs, in one place. The spec types are TEMPORARY local structural
 * copies until @spincycle/spec exports them.
 */
export interface ArgSpec {
  name: string;
  desc: string;
  default: string | undefined;
}
export interface NodeSpec {
  name: string;
  category: 'job' | 'sequence' | 'conditional';
  type: string | undefined;
  args: { expected: string; given: string }[];
  sets: { arg: string; as: string }[];
  deps: string[];
  each: { list: string; element: string }[];
  parallel: number | undefined;
  retry: number;
  retryWait: string;
  if: string | undefined;
  eq: Record<string, string>;
}
export interface SequenceSpec {
  name: string;
  request: boolean;
  args: { required: ArgSpec[]; optional: ArgSpec[]; static: ArgSpec[] };
  nodes: Map<string, NodeSpec>;
}
export interface SpecSet {
  sequences: Map<string, SequenceSpec>;
}
export {
  isUnknownJobTypeError as isUnknownJobType,
  type Job,
  type JobFactory,
  type JobId,
} from '@spincycle/jobs';

/**
 * Deterministic Kahn order of a sequence's nodes, ties broken by file order.
 * Local stand-in for spec's `topologicalOrder`. Throws on cycles and unknown deps.
 */
export function topologicalOrder(seq: SequenceSpec): NodeSpec[] {
  const nodes = [...seq.nodes.values()];
  const placed = new Set<string>();
  const out: NodeSpec[] = [];
  while (out.length < nodes.length) {
    const next = nodes.find((n) => !placed.has(n.name) && n.deps.every((d) => placed.has(d)));
    if (!next) {
      const left = nodes.filter((n) => !placed.has(n.name)).map((n) => n.name);
      throw new Error(`sequence ${seq.name}: cyclical dependencies found amongst: [${left.join(' ')}]`);
    }
    placed.add(next.name);
    out.push(next);
  }
  return out;
}
