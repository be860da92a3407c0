/**
 * Static checks: the original linter's checks S1–S11, SW1, N1–N23, NW1–NW5 (see
 * docs/compatibility.md), plus this project's additions: ACL `ops` values (`acl-ops`),
 * `deps` naming unknown nodes (`deps-unknown`), arg patterns (`arg-pattern`,
 * `arg-pattern-default`) and the timeout and backoff keys (timeout-checks.ts). Sequence-level checks live in sequence-checks.ts, node-level
 * ones here. One finding per check per sequence/node; values are listed in file order.
 */
import { isBuiltinNoopSequence, sequenceExists } from './builtins.js';
import { diag, duplicateValueMsg, invalidValueMsg, missingValueMsg, plural } from './diagnostics.js';
import { isValidDuration } from './duration.js';
import type { Diagnostic, NodeSpec, SequenceSpec, SpecSet } from './model.js';
import { checkRequestKeys } from './request-keys-checks.js';
import { checkSequence } from './sequence-checks.js';
import {
  calledSequences,
  duplicates,
  fieldLine,
  isNullEntry,
  rawArgs,
  rawCategory,
  rawEach,
  rawSets,
  splitEach,
  unique,
} from './spec-views.js';
import { checkNodeTimeouts, checkSequenceTimeout } from './timeout-checks.js';

const CATEGORIES: readonly string[] = ['job', 'sequence', 'conditional'];

export function staticChecks(specs: SpecSet): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const seq of specs.sequences.values()) {
    out.push(...checkSequence(seq), ...checkSequenceTimeout(seq), ...checkRequestKeys(seq));
    for (const node of seq.nodes.values())
      out.push(...checkNode(specs, seq, node), ...checkNodeTimeouts(seq, node));
  }
  return out;
}

// --- node level ---------------------------------------------------------------------

function checkNode(specs: SpecSet, seq: SequenceSpec, node: NodeSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const n = node.name;
  const at = (line: number) => ({ file: seq.file, line, sequence: seq.name, node: n });
  const err = (check: string, line: number, msg: string) => out.push(diag('error', check, at(line), msg));
  const warn = (check: string, line: number, msg: string) => out.push(diag('warning', check, at(line), msg));
  const line = (key: string) => fieldLine(node, key);

  const category = rawCategory(node);
  const conditional = node.category === 'conditional' && category === 'conditional';
  const each = rawEach(node);
  const eachOk = splitEach(each);
  const args = rawArgs(node);
  const sets = rawSets(node);
  const namedArgs = args.flatMap((a) =>
    isNullEntry(a) || !a.expected ? [] : [{ expected: a.expected, given: a.given || a.expected }],
  );
  const namedSets = sets.flatMap((s) =>
    isNullEntry(s) || !s.arg ? [] : [{ arg: s.arg, as: s.as || s.arg }],
  );
  const eqValues = Object.values(node.eq);

  // N1, N2
  if (category === undefined) err('N1', node.pos.line, missingValueMsg(n, 'category'));
  else if (!CATEGORIES.includes(category))
    err('N2', line('category'), invalidValueMsg(n, 'category', [category], '(job | sequence | conditional)'));

  // N3: called sequences exist (the built-in noop sequence always does).
  if (
    node.category === 'sequence' &&
    category === 'sequence' &&
    node.type !== undefined &&
    !sequenceExists(specs, node.type)
  )
    err('N3', line('type'), invalidValueMsg(n, 'type', [node.type], 'a sequence that exists in specs'));
  if (conditional) {
    const missing = unique(eqValues.filter((s) => !sequenceExists(specs, s)));
    if (missing.length > 0)
      err(
        'N3',
        line('eq'),
        invalidValueMsg(
          n,
          'eq',
          missing,
          `${plural(missing.length, 'sequences that exist', 'a sequence that exists')} in specs`,
        ),
      );
  }

  // N4
  const badEach = (each ?? []).filter((e) => e.split(':').length !== 2);
  if (badEach.length > 0)
    err('N4', line('each'), invalidValueMsg(n, 'each', badEach, "value(s) of form 'list:element'"));

  // N5, N6
  const nullArg = args.find(isNullEntry);
  if (nullArg)
    err(
      'N5',
      nullArg.line,
      invalidValueMsg(n, 'args', ['null'], "an entry with 'expected' (and optionally 'given')"),
    );
  const unnamedArg = args.find((a) => !isNullEntry(a) && !a.expected);
  if (unnamedArg)
    err('N6', unnamedArg.line, missingValueMsg(n, 'args.expected', "must be specified for all 'args'"));

  // N7, N8
  const nullSet = sets.find(isNullEntry);
  if (nullSet)
    err(
      'N7',
      nullSet.line,
      invalidValueMsg(n, 'sets', ['null'], "an entry with 'arg' (and optionally 'as')"),
    );
  const unnamedSet = sets.find((s) => !isNullEntry(s) && !s.arg);
  if (unnamedSet)
    err('N8', unnamedSet.line, missingValueMsg(n, 'sets.arg', "must be specified for all 'sets'"));

  // N9
  if (node.parallel === 0) err('N9', line('parallel'), invalidValueMsg(n, 'parallel', ['0'], '> 0'));

  // N10, N11
  if (conditional && node.if === undefined)
    err('N10', node.pos.line, missingValueMsg(n, 'if', 'required for conditional nodes'));
  if (conditional && eqValues.length === 0)
    err('N11', line('eq'), missingValueMsg(n, 'eq', 'required for conditional nodes'));

  // N12: job, sequence, missing or invalid category.
  if (!conditional && node.type === undefined)
    err('N12', node.pos.line, missingValueMsg(n, 'type', 'required for nonconditional nodes'));

  // N13
  if (node.retryWait !== '' && !isValidDuration(node.retryWait))
    err('N13', line('retryWait'), invalidValueMsg(n, 'retryWait', [node.retryWait], 'valid duration string'));

  // N14: required args of called sequences are among the node's inputs.
  const inputs = unique([...namedArgs.map((a) => a.expected), ...eachOk.map((e) => e.element)]);
  const called = callsSequences(node, category)
    ? calledSequences(node).filter((s) => specs.sequences.has(s) && !isBuiltinNoopSequence(specs, s))
    : [];
  if (called.length > 0) {
    const missing = new Map<string, string[]>();
    for (const name of called) {
      const callee = specs.sequences.get(name) as SequenceSpec;
      for (const a of callee.args.required) {
        if (!a.name || inputs.includes(a.name)) continue;
        const list = missing.get(a.name) ?? [];
        if (!list.includes(name)) list.push(name);
        missing.set(a.name, list);
      }
    }
    if (missing.size > 0) {
      const parts = [...missing].map(
        ([arg, seqs]) => `arg: ${arg}, sequence${plural(seqs.length)}: ${seqs.join(',')}`,
      );
      const explanation = `required arg${plural(missing.size)} to sequence(s) called by node not provided: ${parts.join('; ')}`;
      err('N14', node.pos.line, missingValueMsg(n, 'args', explanation));
    }
  }

  // N15: each element unique
  const dupElements = duplicates(eachOk.map((e) => e.element));
  if (dupElements.length > 0)
    err(
      'N15',
      line('each'),
      duplicateValueMsg(
        n,
        'each',
        dupElements,
        "in 'each: list:element', a given 'element' should appear at most once per node",
      ),
    );

  // N16: args.expected unique
  const dupExpected = duplicates(namedArgs.map((a) => a.expected));
  if (dupExpected.length > 0) err('N16', line('args'), duplicateValueMsg(n, 'args.expected', dupExpected));

  // N17: each element is not also an args.expected
  const expected = new Set(namedArgs.map((a) => a.expected));
  const shadowed = unique(eachOk.map((e) => e.element).filter((el) => expected.has(el)));
  if (shadowed.length > 0)
    err(
      'N17',
      line('each'),
      duplicateValueMsg(
        n,
        'each',
        shadowed,
        "in 'each: list:element', a given 'element' should not be repeated in 'args.expected'",
      ),
    );

  // N18: sets.as unique
  const dupAs = duplicates(namedSets.map((s) => s.as));
  if (dupAs.length > 0)
    err(
      'N18',
      line('sets'),
      duplicateValueMsg(
        n,
        'sets.as',
        dupAs,
        "note that if 'as' is not explicitly specified, then its value is the same as 'arg'",
      ),
    );

  // N19: `parallel` needs `each` (an explicit empty list is fine).
  if (node.parallel !== undefined && each === undefined)
    err('N19', line('parallel'), missingValueMsg(n, 'each', "required when 'parallel' field set"));

  // N20–N22
  if (conditional && node.type !== undefined)
    err(
      'N20',
      line('type'),
      invalidValueMsg(n, 'type', [node.type], 'no value; conditional nodes may not specify a type'),
    );
  if (!conditional && node.if !== undefined)
    err(
      'N21',
      line('if'),
      invalidValueMsg(n, 'if', [node.if], 'no value; nonconditional nodes may not specify if'),
    );
  if (!conditional && eqValues.length > 0)
    err(
      'N22',
      line('eq'),
      invalidValueMsg(n, 'eq', [goMap(node.eq)], 'no value; nonconditional nodes may not specify eq'),
    );

  // N23
  if (node.retryWait !== '' && node.retry === 0)
    err('N23', line('retryWait'), missingValueMsg(n, 'retry', "required when 'retryWait' field set"));

  // deps naming nodes that do not exist (the original reported these as a cycle).
  for (const dep of unique(node.deps)) {
    if (!seq.nodes.has(dep)) err('deps-unknown', line('deps'), `node ${n}: deps names unknown node ${dep}`);
  }

  // NW1: one list demuxed into two different elements
  const byList = new Map<string, string>();
  const renamedLists: string[] = [];
  for (const e of eachOk) {
    const prev = byList.get(e.list);
    if (prev !== undefined && prev !== e.element && !renamedLists.includes(e.list)) renamedLists.push(e.list);
    byList.set(e.list, e.element);
  }
  if (renamedLists.length > 0)
    warn(
      'NW1',
      line('each'),
      duplicateValueMsg(
        n,
        'each',
        renamedLists,
        "in 'each: list:element', a given 'list' should appear at most once per node",
      ),
    );

  // NW2: one given passed as two different expected
  const byGiven = new Map<string, string>();
  const renamedGiven: string[] = [];
  for (const a of namedArgs) {
    const prev = byGiven.get(a.given);
    if (prev !== undefined && prev !== a.expected && !renamedGiven.includes(a.given))
      renamedGiven.push(a.given);
    byGiven.set(a.given, a.expected);
  }
  if (renamedGiven.length > 0)
    warn(
      'NW2',
      line('args'),
      duplicateValueMsg(
        n,
        'args.given',
        renamedGiven,
        "note that if 'given' is not explicitly specified, then its value is the same as 'expected'",
      ),
    );

  // NW3: each list also passed as an args.given
  const given = new Set(namedArgs.map((a) => a.given));
  const listsGiven = unique(eachOk.map((e) => e.list).filter((l) => given.has(l)));
  if (listsGiven.length > 0)
    warn(
      'NW3',
      line('each'),
      duplicateValueMsg(
        n,
        'each',
        listsGiven,
        "in 'each: list:element', a given 'list' should not be repeated in 'args.given'; note that if 'given' is not explicitly specified, then its value is the same as 'expected'",
      ),
    );

  // NW4: one sets.arg renamed to two different names
  const byArg = new Map<string, string>();
  const renamedSets: string[] = [];
  for (const s of namedSets) {
    const prev = byArg.get(s.arg);
    if (prev !== undefined && prev !== s.as && !renamedSets.includes(s.arg)) renamedSets.push(s.arg);
    byArg.set(s.arg, s.as);
  }
  if (renamedSets.length > 0)
    warn(
      'NW4',
      line('sets'),
      duplicateValueMsg(n, 'sets.arg', renamedSets, "value(s) renamed multiple times using 'as'"),
    );

  // NW5: inputs that no called sequence accepts (static args don't count).
  if (callsSequences(node, category)) {
    const accepted = new Set<string>();
    for (const name of calledSequences(node)) {
      const callee = specs.sequences.get(name);
      if (!callee) continue;
      for (const a of [...callee.args.required, ...callee.args.optional]) if (a.name) accepted.add(a.name);
    }
    const extra = inputs.filter((i) => !accepted.has(i));
    if (extra.length > 0)
      warn(
        'NW5',
        node.pos.line,
        invalidValueMsg(
          n,
          "args', 'each.element",
          extra,
          'only args that the called sequence(s) declare as required or optional',
        ),
      );
  }
  return out;
}

/** Only sequence and conditional nodes (with a valid category) call sequences. */
function callsSequences(node: NodeSpec, category: string | undefined): boolean {
  return (node.category === 'sequence' || node.category === 'conditional') && category === node.category;
}

/** Renders a map the way the original printed it (`map[k1:v1 k2:v2]`, keys sorted). */
function goMap(m: Record<string, string>): string {
  const keys = Object.keys(m).sort();
  return `map[${keys.map((k) => `${k}:${m[k]}`).join(' ')}]`;
}
