/**
 * The job chain as an SVG DAG. Structure and layout are memoised on the chain and the
 * fold choices only, so live state changes just recolour nodes.
 */
import { useMemo, useState } from 'preact/hooks';
import {
  countsByNode,
  type FoldChoices,
  groupState,
  type StateCounts,
  type Structure,
  type VisibleNode,
  visibleGraph,
} from './collapse.js';
import { LIVE_LABEL, LIVE_STATES, type LiveState } from './job-state.js';
import { isJoin, layout } from './layout.js';
import type { Job } from './wire.js';

export interface DagProps {
  structure: Structure;
  jobs: Record<string, Job>;
  states: ReadonlyMap<string, LiveState>;
  requestRunning: boolean;
  selected?: string | undefined;
  onSelect?: (jobId: string) => void;
}

function countsText(c: StateCounts): string {
  return LIVE_STATES.filter((s) => c[s] > 0)
    .map((s) => `${c[s]} ${LIVE_LABEL[s]}`)
    .join(', ');
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function Dag(props: DagProps) {
  const { structure, jobs } = props;
  const [choices, setChoices] = useState<FoldChoices>(new Map());
  const [zoom, setZoom] = useState(1);
  const visible = useMemo(() => visibleGraph(structure, choices), [structure, choices]);
  const laid = useMemo(() => layout(visible, jobs), [visible, jobs]);
  const counts = useMemo(() => countsByNode(visible, props.states), [visible, props.states]);
  const setFold = (key: string, folded: boolean) => setChoices(new Map(choices).set(key, folded));

  // Unfolded groups (other than the root) can be folded again from this list.
  const unfolded = [...structure.groups.values()].filter(
    (g) => g.key !== structure.rootKey && g.size > 1 && !visible.nodes.some((n) => n.id === g.key),
  );
  const hiddenGroups = new Set<string>();
  for (const n of visible.nodes) if (n.kind === 'group') hiddenGroups.add(n.id);
  const foldable = unfolded.filter((g) => {
    for (let p = g.parent; p; p = structure.groups.get(p)?.parent) if (hiddenGroups.has(p)) return false;
    return true;
  });

  const activate = (n: VisibleNode) => {
    if (n.kind === 'group') setFold(n.id, false);
    else props.onSelect?.(n.jobId);
  };
  const onKey = (n: VisibleNode) => (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate(n);
    }
  };

  return (
    <div class="dag">
      <div class="dag-tools" role="toolbar" aria-label="graph view">
        <button type="button" onClick={() => setZoom(Math.min(2, zoom * 1.25))} aria-label="zoom in">
          +
        </button>
        <button type="button" onClick={() => setZoom(Math.max(0.25, zoom / 1.25))} aria-label="zoom out">
          −
        </button>
        <span class="hint">
          {visible.nodes.length} of {structure.order.length} jobs shown · Enter on a group expands it
        </span>
        <Legend />
        {foldable.length > 0 && (
          <details class="fold-list">
            <summary>Expanded groups ({foldable.length})</summary>
            <ul>
              {foldable.slice(0, 200).map((g) => (
                <li key={g.key}>
                  <button type="button" onClick={() => setFold(g.key, true)}>
                    Collapse {g.kind === 'each' ? 'each' : 'sequence'} {g.label} ({g.size} jobs)
                  </button>
                </li>
              ))}
            </ul>
          </details>
        )}
      </div>
      <div class="dag-scroll">
        {/* biome-ignore lint/a11y/useSemanticElements: an SVG cannot hold a fieldset */}
        <svg
          width={laid.width * zoom}
          height={laid.height * zoom}
          viewBox={`0 0 ${laid.width} ${laid.height}`}
          role="group"
          aria-label="job chain"
        >
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="6"
              markerHeight="6"
              orient="auto"
            >
              <path d="M0,0 L10,5 L0,10 z" class="arrow" />
            </marker>
          </defs>
          <g class="edges">
            {laid.edges.map((e) => (
              <polyline
                key={`${e.from}>${e.to}`}
                points={e.points.map((p) => `${p.x},${p.y}`).join(' ')}
                marker-end="url(#arrow)"
              />
            ))}
          </g>
          {visible.nodes.map((n) => {
            const b = laid.boxes.get(n.id);
            if (!b) return null;
            const c = counts.get(n.id);
            if (n.kind === 'group') {
              const state = c ? groupState(c, props.requestRunning) : 'pending';
              const done = c ? c.complete : 0;
              const title = `${n.group.kind === 'each' ? 'each' : 'sequence'} ${n.group.label}`;
              return (
                // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; role, tabIndex and keys make the node one
                <g
                  key={n.id}
                  class={`node group tone-${state}`}
                  transform={`translate(${b.x},${b.y})`}
                  tabindex={0}
                  role="button"
                  aria-expanded="false"
                  aria-label={`${title}, ${n.group.size} jobs: ${c ? countsText(c) : ''}. Expand`}
                  data-group={n.id}
                  onClick={() => activate(n)}
                  onKeyDown={onKey(n)}
                >
                  <rect width={b.w} height={b.h} rx="8" class="stack" x="4" y="4" />
                  <rect width={b.w} height={b.h} rx="8" />
                  <text x="10" y="18" class="label">
                    {clip(`${n.group.kind === 'each' ? '⋯ ' : ''}${n.group.label}`, 20)}
                    <tspan class="count">
                      {' '}
                      ×{n.group.kind === 'each' ? n.group.children || n.group.size : n.group.size}
                    </tspan>
                  </text>
                  <text x="10" y="34" class="sub">
                    {clip(c ? countsText(c) : '', 30)}
                  </text>
                  <rect x="10" y="44" width={b.w - 20} height="5" class="bar-bg" />
                  <rect
                    x="10"
                    y="44"
                    width={((b.w - 20) * done) / Math.max(1, n.group.size)}
                    height="5"
                    class="bar"
                  />
                </g>
              );
            }
            const job = jobs[n.jobId] as Job;
            const state = props.states.get(n.jobId) ?? 'pending';
            const label = `${job.name} (${job.type}): ${LIVE_LABEL[state]}`;
            const sel = props.selected === n.jobId ? ' selected' : '';
            if (isJoin(job)) {
              return (
                <g
                  key={n.id}
                  class={`node join tone-${state}${sel}`}
                  transform={`translate(${b.x},${b.y})`}
                  data-job={n.jobId}
                >
                  <title>{label}</title>
                  <circle cx={b.w / 2} cy={b.h / 2} r={b.w / 2} />
                </g>
              );
            }
            return (
              // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; role, tabIndex and keys make the node one
              <g
                key={n.id}
                class={`node job tone-${state}${sel}`}
                transform={`translate(${b.x},${b.y})`}
                tabindex={0}
                role="button"
                aria-pressed={props.selected === n.jobId}
                aria-label={label}
                data-job={n.jobId}
                data-state={state}
                onClick={() => activate(n)}
                onKeyDown={onKey(n)}
              >
                <title>{label}</title>
                <rect width={b.w} height={b.h} rx="6" />
                <text x="10" y="17" class="label">
                  {clip(job.name, 19)}
                </text>
                <text x="10" y="31" class="sub">
                  {clip(`${job.type} · ${LIVE_LABEL[state]}`, 24)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="state colours">
      {LIVE_STATES.map((s) => (
        <li key={s} class={`tone-${s}`}>
          <span class="swatch" aria-hidden="true" />
          {LIVE_LABEL[s]}
        </li>
      ))}
    </ul>
  );
}
