import { describe, expect, it } from 'vitest';
import { checkSpecs } from '../src/check.js';
import { graphChecks } from '../src/graph-checks.js';
import type { LintResult } from '../src/lint.js';
import { loadSpecTexts } from '../src/load.js';
import type { SequenceSpec } from '../src/model.js';
import { topologicalOrder, topologicalSort } from '../src/topo.js';
import { checksOf, expectFinding, expectOne, lineOf, lintText, y } from './helpers.js';

const load = (text: string) => loadSpecTexts([['specs.yaml', text]]).specs;
const seqOf = (text: string, name: string) => load(text).sequences.get(name) as SequenceSpec;

/** Exactly one error `check` among the findings of `sequence`, on the line of its header. */
function expectSequenceError(
  r: LintResult,
  text: string,
  e: { sequence: string; check: string; message: string },
): void {
  const mine = r.diagnostics.filter((d) => d.sequence === e.sequence);
  expectOne(mine, { ...e, severity: 'error', line: lineOf(text, `  ${e.sequence}:`) });
}

describe('graph checks', () => {
  it("missing 'if' arg", () => {
    const text = y`
      sequences:
        s:
          nodes:
            c:
              category: conditional
              if: mode
              eq: {default: noop}`;
    expectFinding(text, {
      severity: 'error',
      check: 'G-if',
      at: '    c:',
      sequence: 's',
      node: 'c',
      message: "in node c: 'if: mode': job arg mode is not set",
    });
    // Passes once an ancestor sets it.
    const ok = y`
      sequences:
        s:
          nodes:
            set-mode: {category: job, type: t, sets: [{arg: mode}]}
            c:
              category: conditional
              if: mode
              eq: {default: noop}
              deps: [set-mode]`;
    expect(lintText(ok).diagnostics).toEqual([]);
  });

  it('bad each shape (only reachable without the static checks)', () => {
    const text = y`
      sequences:
        s:
          args:
            required: [{name: l}]
          nodes:
            n: {category: job, type: t, each: ["l:a:b"]}`;
    expectOne(graphChecks(load(text)), {
      severity: 'error',
      check: 'G-each-shape',
      line: lineOf(text, '    n:'),
      sequence: 's',
      node: 'n',
      message: "in node n: input to 'each:' l:a:b; expected format 'list:element'",
    });
    expect(checksOf(graphChecks(load(text.replace('l:a:b', 'l:a'))))).toEqual([]);
  });

  it("missing 'each' list and missing 'given' args are listed together", () => {
    const text = y`
      sequences:
        s:
          args:
            required: [{name: a}]
          nodes:
            n:
              category: job
              type: t
              each: [items:item]
              args:
                - expected: a
                - expected: x
                  given: b
                - expected: c`;
    expectFinding(text, {
      severity: 'error',
      check: 'G-args',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: 'node n: expected job args to be set by some previous node: items, b, c',
    });
  });

  it('args available from required, optional and static args and from ancestors', () => {
    const r = lintText(y`
      sequences:
        s:
          args:
            required: [{name: r}]
            optional: [{name: o, default: x}]
            static: [{name: st, default: y}]
          nodes:
            a: {category: job, type: t, args: [{expected: r}, {expected: o}, {expected: st}], sets: [{arg: out, as: items}]}
            b: {category: job, type: t, deps: [a]}
            c: {category: job, type: t, deps: [b], each: [items:item], args: [{expected: list, given: items}]}`);
    expect(r.errors).toBe(0);
  });

  it('is deterministic: a sibling that is not an ancestor never provides args', () => {
    // `a` comes first in the file and sets x, but `b` does not depend on it.
    const text = y`
      sequences:
        s:
          nodes:
            a: {category: job, type: t, sets: [{arg: x}]}
            b: {category: job, type: t, args: [{expected: x}]}`;
    for (let i = 0; i < 3; i++) {
      expectFinding(text, {
        severity: 'error',
        check: 'G-args',
        at: '    b:',
        sequence: 's',
        node: 'b',
        message: 'node b: expected job args to be set by some previous node: x',
      });
    }
    // In a diamond, outputs of every ancestor (transitively) are available; a parallel
    // branch's outputs are not.
    const diamond = y`
      sequences:
        s:
          nodes:
            top: {category: job, type: t, sets: [{arg: x}]}
            left: {category: job, type: t, deps: [top], sets: [{arg: l}]}
            right: {category: job, type: t, deps: [top], args: [{expected: l}]}
            bottom: {category: job, type: t, deps: [left, right], args: [{expected: x}, {expected: l}]}`;
    expectFinding(diamond, {
      severity: 'error',
      check: 'G-args',
      at: '    right:',
      sequence: 's',
      node: 'right',
      message: 'node right: expected job args to be set by some previous node: l',
    });
  });

  it('cycles', () => {
    const text = y`
      sequences:
        s:
          nodes:
            a: {category: job, type: t}
            b: {category: job, type: t, deps: [a, c]}
            c: {category: job, type: t, deps: [b]}
            d: {category: job, type: t, deps: [c]}`;
    expectFinding(text, {
      severity: 'error',
      check: 'G-cycle',
      at: '    b:',
      sequence: 's',
      message: 'cyclical dependencies found amongst: [b c d]',
    });
  });

  it('subsequence failed checks (sequence and conditional callers)', () => {
    const text = y`
      sequences:
        caller:
          nodes:
            n1: {category: sequence, type: bad-1}
            n2: {category: sequence, type: bad-2, deps: [n1]}
            n3: {category: sequence, type: good, deps: [n2]}
        cond-caller:
          args:
            static: [{name: w, default: good}]
          nodes:
            c: {category: conditional, if: w, eq: {good: good, bad: bad-1}}
        bad-1:
          nodes:
            x: {category: job, type: t, deps: [x]}
        bad-2:
          nodes:
            x: {category: job, type: t, args: [{expected: nothing}]}
        good:
          nodes:
            x: {category: job, type: t}`;
    const r = lintText(text);
    expectSequenceError(r, text, {
      sequence: 'caller',
      check: 'G-subsequence',
      message: 'subsequences failed checks: bad-1, bad-2',
    });
    expectSequenceError(r, text, {
      sequence: 'cond-caller',
      check: 'G-subsequence',
      message: 'subsequence failed checks: bad-1',
    });
    expect(r.diagnostics.filter((d) => d.sequence === 'good')).toEqual([]);
    // Propagates up the call chain.
    const chain = lintText(`${text}\n  top:\n    nodes:\n      t: {category: sequence, type: caller}\n`);
    expect(chain.diagnostics.find((d) => d.sequence === 'top')?.message).toBe(
      'subsequence failed checks: caller',
    );
  });

  it("sets check: sequence node (a subsequence's own args count as set)", () => {
    const text = y`
      sequences:
        s:
          args:
            required: [{name: in}]
          nodes:
            call:
              category: sequence
              type: sub
              args: [{expected: in}]
              sets: [{arg: in}, {arg: made}, {arg: nope}, {arg: nope2}]
        sub:
          args:
            required: [{name: in}]
          nodes:
            j: {category: job, type: t, sets: [{arg: raw, as: made}]}`;
    expectFinding(text, {
      severity: 'error',
      check: 'G-sets',
      at: '    call:',
      sequence: 's',
      node: 'call',
      message: "node did not set job args declared in 'sets': call (failed to set nope, nope2)",
    });
    // (setting a sequence arg is only an SW1 warning)
    expect(lintText(text.replace(', {arg: nope}, {arg: nope2}', '')).errors).toBe(0);
  });

  it('sets check: conditional uses the intersection of its branches; built-in noop provides nothing', () => {
    const text = y`
      sequences:
        s:
          args:
            static: [{name: w, default: a}]
          nodes:
            c1:
              category: conditional
              if: w
              eq: {a: sets-x-y, b: sets-x}
              sets: [{arg: x}, {arg: y}]
            c2:
              category: conditional
              if: w
              eq: {a: sets-x-y, default: noop}
              sets: [{arg: x}]
        sets-x-y:
          nodes:
            j: {category: job, type: t, sets: [{arg: x}, {arg: y}]}
        sets-x:
          nodes:
            j: {category: job, type: t, sets: [{arg: x}]}`;
    expectFinding(text, {
      severity: 'error',
      check: 'G-sets',
      at: '    c1:',
      sequence: 's',
      message: "nodes did not set job args declared in 'sets': c1 (failed to set y); c2 (failed to set x)",
    });
    // A user-defined noop sequence is used instead of the built-in one.
    const userNoop = `${text.replace('sets: [{arg: x}, {arg: y}]\n', 'sets: [{arg: x}]\n')}\n  noop:\n    nodes:\n      j: {category: job, type: t, sets: [{arg: x}]}\n`;
    expect(lintText(userNoop).errors).toBe(0);
  });

  it('cyclical dependency among sequences (also through a conditional, and a self call)', () => {
    const text = y`
      sequences:
        one:
          nodes:
            n: {category: sequence, type: two}
        two:
          args:
            static: [{name: w, default: x}]
          nodes:
            c: {category: conditional, if: w, eq: {x: three, default: noop}}
        three:
          nodes:
            n: {category: sequence, type: one}
        self:
          nodes:
            n: {category: sequence, type: self}
        caller:
          nodes:
            n: {category: sequence, type: one}`;
    const r = lintText(text);
    for (const name of ['one', 'two', 'three']) {
      expectSequenceError(r, text, {
        sequence: name,
        check: 'G-seq-cycle',
        message: 'part of cyclical dependency among sequences: one, three, two',
      });
    }
    expectSequenceError(r, text, {
      sequence: 'self',
      check: 'G-seq-cycle',
      message: 'part of cyclical dependency among sequences: self',
    });
    expect(r.diagnostics.find((d) => d.sequence === 'caller')?.check).toBe('G-subsequence');
  });

  it('runs only when the static checks found no errors; warnings do not stop it', () => {
    const base = y`
      sequences:
        s:
          nodes:
            a: {category: job, type: t, args: [{expected: x}]}`;
    expect(checksOf(checkSpecs(load(base)))).toEqual(['G-args']);
    expect(checksOf(checkSpecs(load(`${base}\n  t:\n    nodes: {}\n`)))).toEqual(['S11']);
    const withWarning = `${base.replace('[{expected: x}]', '[{expected: x, given: g}, {expected: y, given: g}]')}\n`;
    expect(checksOf(checkSpecs(load(withWarning)))).toEqual(['NW2', 'G-args']);
  });
});

describe('topologicalOrder', () => {
  it('orders by deps, ties broken by file order', () => {
    const seq = seqOf(
      y`
      sequences:
        s:
          nodes:
            c: {category: job, type: t, deps: [a]}
            a: {category: job, type: t}
            b: {category: job, type: t}
            d: {category: job, type: t, deps: [b, c, c]}`,
      's',
    );
    expect(topologicalOrder(seq).map((n) => n.name)).toEqual(['a', 'c', 'b', 'd']);
  });

  it('reports unplaced nodes, and topologicalOrder throws on them', () => {
    const seq = seqOf(
      y`
      sequences:
        s:
          nodes:
            a: {category: job, type: t, deps: [b]}
            b: {category: job, type: t, deps: [a]}
            c: {category: job, type: t}
            d: {category: job, type: t, deps: [ghost]}`,
      's',
    );
    const r = topologicalSort(seq);
    expect(r.order.map((n) => n.name)).toEqual(['c']);
    expect(r.unplaced.map((n) => n.name)).toEqual(['a', 'b', 'd']);
    expect(() => topologicalOrder(seq)).toThrow('cyclical dependencies found amongst: [a b d]');
  });

  it('orders long chains', () => {
    const nodes = Array.from(
      { length: 2000 },
      (_, i) =>
        `      j${i}: {category: job, type: t${i > 0 ? `, deps: [j${i - 1}]` : ''}, sets: [{arg: o${i}}]}`,
    ).join('\n');
    const seq = seqOf(`sequences:\n  s:\n    nodes:\n${nodes}\n`, 's');
    const order = topologicalOrder(seq);
    expect(order).toHaveLength(2000);
    expect(order[1999]?.name).toBe('j1999');
  });
});
