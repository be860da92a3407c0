import { describe, expect, it } from 'vitest';
import {
  countsByNode,
  groupState,
  isFolded,
  SMALL_CHAIN,
  structureOf,
  visibleGraph,
} from '../src/collapse.js';
import type { LiveState } from '../src/job-state.js';
import { chainOf, hosts } from './chains.js';

describe('folding a chain', () => {
  it('shows a 7,009-job wide chain as a handful of nodes: the per-host list is one group', async () => {
    const chain = await chainOf('test/web/specs', 'bench-wide', { hosts: hosts(1000) });
    expect(Object.keys(chain.jobs)).toHaveLength(7009);
    const s = structureOf(chain);
    const v = visibleGraph(s, new Map());
    expect(v.nodes.length).toBeLessThan(10);
    const groups = v.nodes.filter((n) => n.kind === 'group');
    expect(groups).toHaveLength(1);
    const each = groups[0];
    if (each?.kind !== 'group') throw new Error('no group');
    expect(each.group).toMatchObject({ kind: 'each', label: 'per-host', children: 1000 });
    // Every job is shown by some node, and the split job stays visible on its own.
    expect(v.shownBy.size).toBe(7009);
    const split = Object.values(chain.jobs).find((j) => j.name === 'split-hosts');
    expect(v.shownBy.get(split?.id ?? '')).toBe(split?.id);
    // Folding never makes a cycle: edges go in and out of the group once each way.
    expect(v.edges.filter(([a, b]) => a === each.id || b === each.id)).toHaveLength(2);
  });

  it('expanding the each group shows one folded node per host sequence', async () => {
    const chain = await chainOf('test/web/specs', 'bench-wide', { hosts: hosts(200) });
    const s = structureOf(chain);
    const each = [...s.groups.values()].find((g) => g.kind === 'each');
    if (!each) throw new Error('no each group');
    const v = visibleGraph(s, new Map([[each.key, false]]));
    const seqs = v.nodes.filter((n) => n.kind === 'group' && n.group.kind === 'sequence');
    expect(seqs).toHaveLength(200);
    for (const n of seqs) if (n.kind === 'group') expect(n.group.size).toBe(7);
  });

  it('opens small chains fully expanded', async () => {
    const chain = await chainOf('specs', 'decommission-hosts', { hosts: 'a,b' });
    expect(Object.keys(chain.jobs).length).toBeLessThanOrEqual(SMALL_CHAIN);
    const s = structureOf(chain);
    const v = visibleGraph(s, new Map());
    expect(v.nodes.every((n) => n.kind === 'job')).toBe(true);
    expect(v.nodes).toHaveLength(Object.keys(chain.jobs).length);
    // …and a folded group hides its jobs behind one node.
    const each = [...s.groups.values()].find((g) => g.kind === 'each' && g.label === 'decommission-each');
    if (!each) throw new Error('no each group');
    const folded = visibleGraph(s, new Map([[each.key, true]]));
    expect(isFolded(s, each.key, new Map([[each.key, true]]))).toBe(true);
    expect(folded.nodes.length).toBe(v.nodes.length - each.size + 1);
  });

  it('keeps batches of a parallel-limited list inside one group', async () => {
    const chain = await chainOf('specs', 'upgrade-fleet', { hosts: hosts(40), version: '2' });
    const s = structureOf(chain);
    const v = visibleGraph(s, new Map());
    const groups = v.nodes.filter((n) => n.kind === 'group');
    expect(groups).toHaveLength(1);
    // The repeat joins between batches are inside the group, not left dangling.
    const loose = v.nodes.filter((n) => n.kind === 'job' && chain.jobs[n.jobId]?.name.startsWith('repeat_'));
    expect(loose).toHaveLength(0);
  });

  it('counts states per node and colours a group by its most pressing state', async () => {
    const chain = await chainOf('test/web/specs', 'bench-wide', { hosts: hosts(100) });
    const s = structureOf(chain);
    const v = visibleGraph(s, new Map());
    const states = new Map<string, LiveState>();
    for (const id of Object.keys(chain.jobs)) states.set(id, 'complete');
    const groupNode = v.nodes.find((n) => n.kind === 'group');
    const inGroup = [...v.shownBy].filter(([, node]) => node === groupNode?.id).map(([job]) => job);
    states.set(inGroup[3] as string, 'fail');
    states.set(inGroup[4] as string, 'running');
    const c = countsByNode(v, states).get(groupNode?.id ?? '');
    expect(c).toMatchObject({ fail: 1, running: 1, complete: inGroup.length - 2 });
    expect(groupState(c ?? ({} as never), true)).toBe('fail');
    expect(groupState({ pending: 3, running: 0, retry: 0, complete: 2, fail: 0, stopped: 0 }, true)).toBe(
      'running',
    );
    expect(groupState({ pending: 3, running: 0, retry: 0, complete: 2, fail: 0, stopped: 0 }, false)).toBe(
      'pending',
    );
    expect(groupState({ pending: 0, running: 0, retry: 0, complete: 5, fail: 0, stopped: 0 }, false)).toBe(
      'complete',
    );
  });
});
