/** Left-to-right layout of the visible graph with dagre (a maintained layout library). */
import dagre from '@dagrejs/dagre';
import type { Visible, VisibleNode } from './collapse.js';
import type { Job } from './wire.js';

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Laid {
  boxes: Map<string, Box>;
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }> }>;
  width: number;
  height: number;
}

/** begin/end jobs the chain builder adds around sequences and lists: drawn as small dots. */
export function isJoin(job: Job): boolean {
  return job.type === 'noop' && /_(?:begin|end)$/.test(job.name);
}

function sizeOf(n: VisibleNode, jobs: Record<string, Job>): { w: number; h: number } {
  if (n.kind === 'group') return { w: 190, h: 58 };
  const job = jobs[n.jobId];
  return job && isJoin(job) ? { w: 14, h: 14 } : { w: 160, h: 40 };
}

export function layout(v: Visible, jobs: Record<string, Job>): Laid {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 36, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of v.nodes) {
    const { w, h } = sizeOf(n, jobs);
    g.setNode(n.id, { width: w, height: h });
  }
  for (const [a, b] of v.edges) g.setEdge(a, b);
  dagre.layout(g);
  const boxes = new Map<string, Box>();
  for (const n of v.nodes) {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
    boxes.set(n.id, { x: p.x - p.width / 2, y: p.y - p.height / 2, w: p.width, h: p.height });
  }
  const edges = v.edges.map(([from, to]) => ({
    from,
    to,
    points: (g.edge(from, to) as { points?: Array<{ x: number; y: number }> }).points ?? [],
  }));
  const gl = g.graph() as { width?: number; height?: number };
  return { boxes, edges, width: gl.width ?? 0, height: gl.height ?? 0 };
}
