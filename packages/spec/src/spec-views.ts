/**
 * Read-only views of a node as the checks need them: the raw values when the loader kept
 * them, otherwise derived from the normalised fields (hand-built specs).
 */
import type { NodeSpec, RawNodeArg, RawNodeSet, SequenceSpec } from './model.js';

export type RawArgEntry = RawNodeArg | { null: true; line: number };
export type RawSetEntry = RawNodeSet | { null: true; line: number };

export function rawCategory(node: NodeSpec): string | undefined {
  return node.raw ? node.raw.category : node.category;
}

/** `each` entries as written; undefined when the key was absent. */
export function rawEach(node: NodeSpec): string[] | undefined {
  if (node.raw) return node.raw.each;
  return node.each.length > 0 ? node.each.map((e) => `${e.list}:${e.element}`) : undefined;
}

export function rawArgs(node: NodeSpec): RawArgEntry[] {
  if (node.raw) return node.raw.args;
  return node.args.map((a) => ({ expected: a.expected, given: a.given, line: node.pos.line }));
}

export function rawSets(node: NodeSpec): RawSetEntry[] {
  if (node.raw) return node.raw.sets;
  return node.sets.map((s) => ({ arg: s.arg, as: s.as, line: node.pos.line }));
}

export function isNullEntry(e: RawArgEntry | RawSetEntry): e is { null: true; line: number } {
  return 'null' in e;
}

/** Line of a node's key (e.g. `retryWait`), falling back to the node's own line. */
export function fieldLine(node: NodeSpec, key: string): number {
  return node.raw?.lines[key] ?? node.pos.line;
}

/** `each` entries that have the `list:element` shape. */
export function splitEach(entries: readonly string[] | undefined): Array<{ list: string; element: string }> {
  const out: Array<{ list: string; element: string }> = [];
  for (const e of entries ?? []) {
    const parts = e.split(':');
    if (parts.length === 2) out.push({ list: parts[0] as string, element: parts[1] as string });
  }
  return out;
}

/** Names of all args a sequence declares: required, optional and static. */
export function sequenceArgNames(seq: SequenceSpec): string[] {
  const out: string[] = [];
  for (const a of [...seq.args.required, ...seq.args.optional, ...seq.args.static])
    if (a.name) out.push(a.name);
  return out;
}

/** Sequences a node calls: its `type` for a sequence node, its `eq` targets for a conditional. */
export function calledSequences(node: NodeSpec): string[] {
  if (node.category === 'sequence') return node.type === undefined ? [] : [node.type];
  if (node.category === 'conditional') return unique(Object.values(node.eq));
  return [];
}

export function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

/** Values that occur more than once, in order of their second occurrence. */
export function duplicates(xs: Iterable<string>): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const x of xs) {
    if (seen.has(x)) dup.add(x);
    seen.add(x);
  }
  return [...dup];
}
