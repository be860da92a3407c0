/**
 * Graph checks (does every node get the args it needs, from where), made deterministic: a node sees only its sequence's own
 * args and the `sets` outputs of its ancestors (the nodes it transitively depends on),
 * never those of an unrelated sibling. All findings are errors.
 */
import { isBuiltinNoopSequence } from './builtins.js';
import { diag, plural } from './diagnostics.js';
import type { Diagnostic, NodeSpec, SequenceSpec, SpecSet } from './model.js';
import { calledSequences, rawEach, sequenceArgNames, unique } from './spec-views.js';
import { topologicalSort } from './topo.js';

export function graphChecks(specs: SpecSet): Diagnostic[] {
  const out: Diagnostic[] = [];
  const withErrors = new Set<string>();
  const failedToBuild = new Set<string>();

  for (const seq of specs.sequences.values()) {
    const found = buildSequenceGraph(seq);
    if (found.length > 0) {
      failedToBuild.add(seq.name);
      withErrors.add(seq.name);
      out.push(...found);
    }
  }

  // Callees before callers; a strongly connected group of sequences is a call cycle.
  for (const group of callGraphComponents(specs)) {
    const first = group[0] as SequenceSpec;
    if (group.length > 1 || callees(specs, first).includes(first.name)) {
      const names = group.map((s) => s.name).sort();
      for (const seq of group) {
        withErrors.add(seq.name);
        out.push(
          diag(
            'error',
            'G-seq-cycle',
            { file: seq.file, line: seq.pos.line, sequence: seq.name },
            `part of cyclical dependency among sequences: ${names.join(', ')}`,
          ),
        );
      }
      continue;
    }
    const seq = first;
    if (failedToBuild.has(seq.name)) continue;
    const failed = callees(specs, seq).filter((c) => withErrors.has(c));
    if (failed.length > 0) {
      withErrors.add(seq.name);
      out.push(
        diag(
          'error',
          'G-subsequence',
          { file: seq.file, line: seq.pos.line, sequence: seq.name },
          `subsequence${plural(failed.length)} failed checks: ${failed.join(', ')}`,
        ),
      );
      continue;
    }
    const sets = setsCheck(specs, seq);
    if (sets) {
      withErrors.add(seq.name);
      out.push(sets);
    }
  }
  return out;
}

/**
 * Places the nodes in topological order and checks each node's inputs against what is
 * available to it: the sequence's args plus the outputs of its ancestors.
 */
function buildSequenceGraph(seq: SequenceSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (node: NodeSpec | undefined) => ({
    file: seq.file,
    line: node ? node.pos.line : seq.pos.line,
    sequence: seq.name,
    node: node?.name,
  });
  const own = new Set(sequenceArgNames(seq));
  const { order, unplaced } = topologicalSort(seq);

  // Outputs of each placed node's ancestors. A node with one dep that sets nothing shares
  // its dep's set, so long chains stay linear.
  const upstream = new Map<string, ReadonlySet<string>>();
  const empty: ReadonlySet<string> = new Set();
  for (const node of order) {
    const deps = unique(node.deps);
    let seen: ReadonlySet<string>;
    if (deps.length === 0) seen = empty;
    else if (deps.length === 1 && (seq.nodes.get(deps[0] as string) as NodeSpec).sets.length === 0)
      seen = upstream.get(deps[0] as string) as ReadonlySet<string>;
    else {
      const s = new Set<string>();
      for (const d of deps) {
        for (const x of upstream.get(d) as ReadonlySet<string>) s.add(x);
        for (const x of (seq.nodes.get(d) as NodeSpec).sets) s.add(x.as);
      }
      seen = s;
    }
    upstream.set(node.name, seen);
    const available = (arg: string) => own.has(arg) || seen.has(arg);

    if (node.category === 'conditional' && node.if !== undefined && !available(node.if)) {
      out.push(
        diag(
          'error',
          'G-if',
          at(node),
          `in node ${node.name}: 'if: ${node.if}': job arg ${node.if} is not set`,
        ),
      );
    }
    const missing: string[] = [];
    for (const e of rawEach(node) ?? []) {
      const parts = e.split(':');
      if (parts.length !== 2) {
        out.push(
          diag(
            'error',
            'G-each-shape',
            at(node),
            `in node ${node.name}: input to 'each:' ${e}; expected format 'list:element'`,
          ),
        );
        continue;
      }
      const list = parts[0] as string;
      if (!available(list) && !missing.includes(list)) missing.push(list);
    }
    for (const a of node.args) {
      if (!available(a.given) && !missing.includes(a.given)) missing.push(a.given);
    }
    if (missing.length > 0) {
      out.push(
        diag(
          'error',
          'G-args',
          at(node),
          `node ${node.name}: expected job args to be set by some previous node: ${missing.join(', ')}`,
        ),
      );
    }
  }
  if (unplaced.length > 0) {
    out.push(
      diag(
        'error',
        'G-cycle',
        { ...at(unplaced[0]), node: undefined },
        `cyclical dependencies found amongst: [${unplaced.map((n) => n.name).join(' ')}]`,
      ),
    );
  }
  return out;
}

/** The sets check: sequence and conditional nodes must get every arg they declare in `sets`. */
function setsCheck(specs: SpecSet, seq: SequenceSpec): Diagnostic | undefined {
  const failures: Array<{ node: NodeSpec; missing: string[] }> = [];
  for (const node of seq.nodes.values()) {
    if (node.sets.length === 0) continue;
    if (node.category !== 'sequence' && node.category !== 'conditional') continue;
    const targets = calledSequences(node).filter(
      (s) => specs.sequences.has(s) || isBuiltinNoopSequence(specs, s),
    );
    if (targets.length === 0) continue;
    // A conditional provides only what every branch provides.
    let provided = provides(specs, targets[0] as string);
    for (const t of targets.slice(1)) {
      const p = provides(specs, t);
      provided = new Set([...provided].filter((x) => p.has(x)));
    }
    const missing = unique(node.sets.map((s) => s.arg).filter((a) => !provided.has(a)));
    if (missing.length > 0) failures.push({ node, missing });
  }
  if (failures.length === 0) return undefined;
  const first = failures[0] as { node: NodeSpec; missing: string[] };
  const detail = failures.map((f) => `${f.node.name} (failed to set ${f.missing.join(', ')})`).join('; ');
  return diag(
    'error',
    'G-sets',
    {
      file: seq.file,
      line: first.node.pos.line,
      sequence: seq.name,
      node: failures.length === 1 ? first.node.name : undefined,
    },
    `node${plural(failures.length)} did not set job args declared in 'sets': ${detail}`,
  );
}

/**
 * What a call of sequence `name` hands back to its caller: every name available at the
 * end of it, i.e. its own args plus every `sets.as` of its nodes (the built-in noop: nothing).
 */
function provides(specs: SpecSet, name: string): Set<string> {
  const seq = specs.sequences.get(name);
  if (!seq) return new Set();
  const out = new Set(sequenceArgNames(seq));
  for (const node of seq.nodes.values()) for (const s of node.sets) out.add(s.as);
  return out;
}

/** User sequences called by `seq`'s sequence and conditional nodes, in file order. */
function callees(specs: SpecSet, seq: SequenceSpec): string[] {
  const out: string[] = [];
  for (const node of seq.nodes.values()) {
    for (const c of calledSequences(node)) if (specs.sequences.has(c) && !out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * Strongly connected components of the call graph (Tarjan), emitted callees first, so
 * processing them in order sees every callee before its callers.
 */
function callGraphComponents(specs: SpecSet): SequenceSpec[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: SequenceSpec[][] = [];
  let next = 0;

  const visit = (name: string): void => {
    index.set(name, next);
    low.set(name, next);
    next++;
    stack.push(name);
    onStack.add(name);
    for (const c of callees(specs, specs.sequences.get(name) as SequenceSpec)) {
      if (!index.has(c)) {
        visit(c);
        low.set(name, Math.min(low.get(name) as number, low.get(c) as number));
      } else if (onStack.has(c)) {
        low.set(name, Math.min(low.get(name) as number, index.get(c) as number));
      }
    }
    if (low.get(name) === index.get(name)) {
      const group: SequenceSpec[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        group.push(specs.sequences.get(w) as SequenceSpec);
      } while (w !== name);
      out.push(group.reverse());
    }
  };
  for (const name of specs.sequences.keys()) if (!index.has(name)) visit(name);
  return out;
}
