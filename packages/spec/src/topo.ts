/**
 * Deterministic topological order of a sequence's nodes (Kahn's algorithm, ties broken
 * by file order). The graph checks and the chain builder share it.
 */
import type { NodeSpec, SequenceSpec } from './model.js';

export interface TopoResult {
  /** Placed nodes: every node comes after all of its deps. */
  order: NodeSpec[];
  /** Nodes that could not be placed (a cycle, or a dep on an unknown node), in file order. */
  unplaced: NodeSpec[];
}

export function topologicalSort(seq: SequenceSpec): TopoResult {
  const nodes = [...seq.nodes.values()];
  const index = new Map<string, number>();
  for (const [i, n] of nodes.entries()) index.set(n.name, i);
  const indegree = new Array<number>(nodes.length).fill(0);
  const children: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const dep of new Set(n.deps)) {
      const j = index.get(dep);
      // A dep on an unknown node can never be satisfied: the node stays unplaced.
      indegree[i] = (indegree[i] as number) + 1;
      if (j !== undefined) (children[j] as number[]).push(i);
    }
  });
  const ready = new MinHeap();
  indegree.forEach((d, i) => {
    if (d === 0) ready.push(i);
  });
  const order: NodeSpec[] = [];
  const placed = new Array<boolean>(nodes.length).fill(false);
  while (ready.size > 0) {
    const i = ready.pop();
    placed[i] = true;
    order.push(nodes[i] as NodeSpec);
    for (const c of children[i] as number[]) {
      indegree[c] = (indegree[c] as number) - 1;
      if (indegree[c] === 0) ready.push(c);
    }
  }
  return { order, unplaced: nodes.filter((_, i) => !placed[i]) };
}

/**
 * The sequence's nodes in dependency order (ties by file order). Throws when the nodes
 * cannot all be ordered; checked specs never do.
 */
export function topologicalOrder(seq: SequenceSpec): NodeSpec[] {
  const { order, unplaced } = topologicalSort(seq);
  if (unplaced.length > 0) {
    throw new Error(
      `sequence ${seq.name}: cyclical dependencies found amongst: [${unplaced.map((n) => n.name).join(' ')}]`,
    );
  }
  return order;
}

/** Binary min-heap of node indexes: always yields the earliest ready node in file order. */
class MinHeap {
  private readonly a: number[] = [];

  get size(): number {
    return this.a.length;
  }

  push(v: number): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as number) <= v) break;
      a[i] = a[p] as number;
      i = p;
    }
    a[i] = v;
  }

  pop(): number {
    const a = this.a;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[c] as number) >= last) break;
        a[i] = a[c] as number;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
