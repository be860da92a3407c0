/** A plan's job chain as an indented tree: each job with its type and the args it gets. */
import type { JobChain } from '@spincycle/protocol';

function argText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Lines of the tree: roots first, each job's successors indented under it. A
 * job with several predecessors is printed in full once, then as
 * "(see above)". Secret values arrive redacted from the RM.
 */
export function planTree(chain: JobChain): string[] {
  const hasPred = new Set(Object.values(chain.adjacencyList).flat());
  const roots = Object.keys(chain.jobs)
    .filter((id) => !hasPred.has(id))
    .sort();
  const shown = new Set<string>();
  const out: string[] = [];
  const walk = (id: string, depth: number) => {
    const job = chain.jobs[id];
    const pad = '  '.repeat(depth);
    if (!job) return;
    if (shown.has(id)) {
      out.push(`${pad}${job.name} (see above)`);
      return;
    }
    shown.add(id);
    out.push(`${pad}${job.name} [${job.type}]`);
    for (const [k, v] of Object.entries(job.args ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
      out.push(`${pad}    ${k}=${argText(v)}`);
    for (const next of [...(chain.adjacencyList[id] ?? [])].sort()) walk(next, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}
