/** The fixtures shared with the original's test suite: parse and check outcomes. Each file is loaded on its own. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintDir } from '../src/lint.js';
import type { NodeSpec, SequenceSpec } from '../src/model.js';
import { topologicalOrder } from '../src/topo.js';
import { checksOf, fixturesDir, fixtureText, lineOf, lintTexts } from './helpers.js';

const lintFixture = (name: string) => lintTexts({ [name]: fixtureText(name) });
const seqOf = (r: ReturnType<typeof lintFixture>, name: string) =>
  r.specs.sequences.get(name) as SequenceSpec;
const nodeOf = (s: SequenceSpec, name: string) => s.nodes.get(name) as NodeSpec;
const order = (s: SequenceSpec) => topologicalOrder(s).map((n) => n.name);

describe('shared fixtures', () => {
  it('a-b-c.yaml: valid; args, retries and retryWait normalisation', () => {
    const r = lintFixture('a-b-c.yaml');
    expect(r.diagnostics).toEqual([]);
    const three = seqOf(r, 'three-nodes');
    expect(three.request).toBe(true);
    expect(three.args.required.map((a) => [a.name, a.default])).toEqual([['foo', undefined]]);
    expect(three.args.optional.map((a) => [a.name, a.default])).toEqual([['bar', '175']]);
    expect(order(three)).toEqual(['a', 'b', 'c']);
    expect(nodeOf(three, 'a')).toMatchObject({
      retry: 1,
      retryWait: '500ms',
      sets: [{ arg: 'aArg', as: 'aArg' }],
    });
    expect(nodeOf(three, 'b')).toMatchObject({
      retry: 3,
      retryWait: '0s',
      args: [{ expected: 'aArg', given: 'aArg' }],
    });
    expect(nodeOf(three, 'c')).toMatchObject({ retry: 0, retryWait: '', args: [] });
    const wrap = seqOf(r, 'retry-three-nodes');
    expect(nodeOf(wrap, 'node')).toMatchObject({
      category: 'sequence',
      type: 'three-nodes',
      retry: 10,
      retryWait: '500ms',
    });
  });

  it('bad-each.yaml: valid (the list shape is a build-time matter); nodes without deps', () => {
    const r = lintFixture('bad-each.yaml');
    expect(r.diagnostics).toEqual([]);
    const s = seqOf(r, 'bad-each');
    expect(nodeOf(s, 'get-instances').deps).toEqual([]);
    expect(nodeOf(s, 'check-each-instance').each).toEqual([{ list: 'instances', element: 'instance' }]);
  });

  it('cond-args.yaml: fails the static checks only on the missing branch sequence', () => {
    const text = fixtureText('cond-args.yaml');
    const r = lintFixture('cond-args.yaml');
    expect(r.diagnostics.map((d) => [d.severity, d.check, d.line, d.sequence, d.node])).toEqual([
      ['error', 'N3', lineOf(text, 'eq:'), 'request-name', 'job1name'],
    ]);
    expect(r.diagnostics[0]?.message).toContain('"sequence-that-does-not-exist"');
    const s = seqOf(r, 'request-name');
    expect(s.args.optional[0]?.default).toBe('');
    expect(nodeOf(s, 'job1name').eq).toEqual({ yes: 'sequence-that-does-not-exist', default: 'defaultSeq' });
  });

  for (const name of ['decomm.yaml', 'decomm-sets.yaml', 'decomm-limit-parallel.yaml']) {
    it(`${name}: valid, same structure`, () => {
      const r = lintFixture(name);
      expect(r.diagnostics).toEqual([]);
      const s = seqOf(r, 'decommission-cluster');
      expect(s.args.optional.map((a) => [a.name, a.default])).toEqual([['something', '100']]);
      expect(s.args.static.map((a) => [a.name, a.default])).toEqual([['somethingelse', 'test-cluster-001']]);
      expect(s.acl.map((a) => [a.role, a.admin, a.ops])).toEqual([
        ['ops', false, ['start', 'stop']],
        ['sre', true, []],
      ]);
      expect(order(s)).toEqual([
        'get-instances',
        'pre-flight-checks',
        'prep-1',
        'decommission-instances',
        'first-cleanup-job',
        'second-cleanup-job',
        'third-cleanup-job',
        'fourth-cleanup-job',
      ]);
      expect(nodeOf(s, 'get-instances')).toMatchObject({ retry: 3, retryWait: '10s' });
      expect(nodeOf(s, 'pre-flight-checks')).toMatchObject({
        category: 'sequence',
        retry: 3,
        retryWait: '0s',
      });
      expect(nodeOf(s, 'third-cleanup-job').args).toEqual([{ expected: 'cluster', given: 'somethingelse' }]);
      expect(order(seqOf(r, 'decommission-instance'))).toEqual(['decom-1', 'decom-2', 'decom-3']);
    });
  }

  it('decomm-sets.yaml renames with sets.as; decomm-limit-parallel.yaml sets parallel', () => {
    const sets = seqOf(lintFixture('decomm-sets.yaml'), 'decommission-cluster');
    expect(nodeOf(sets, 'get-instances').sets).toEqual([{ arg: 'instances', as: 'instances0' }]);
    expect(nodeOf(sets, 'decommission-instances').each).toEqual([
      { list: 'instances0', element: 'instance' },
    ]);
    const par = seqOf(lintFixture('decomm-limit-parallel.yaml'), 'decommission-cluster');
    expect([
      nodeOf(par, 'pre-flight-checks').parallel,
      nodeOf(par, 'decommission-instances').parallel,
    ]).toEqual([3, 2]);
  });

  it('destroy-conditional.yaml: valid, including the built-in noop branch', () => {
    const r = lintFixture('destroy-conditional.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(nodeOf(seqOf(r, 'double-conditional'), 'clean-up').eq).toEqual({
      yes: 'clean-up-container',
      no: 'noop',
    });
    expect(r.specs.sequences.has('noop')).toBe(false);
  });

  it('empty-cluster.yaml, opt-args.yaml: valid', () => {
    expect(lintFixture('empty-cluster.yaml').diagnostics).toEqual([]);
    const r = lintFixture('opt-args.yaml');
    expect(r.diagnostics).toEqual([]);
    expect(seqOf(r, 'opt-args').args.optional[0]?.default).toBe('');
  });

  it('fail-parse-spec.yaml: a type error, no sequences', () => {
    const r = lintFixture('fail-parse-spec.yaml');
    expect(r.specs.sequences.size).toBe(0);
    expect(r.diagnostics.map((d) => [d.severity, d.check, d.file, d.line, d.sequence, d.node])).toEqual([
      ['error', 'parse-type', 'fail-parse-spec.yaml', 9, 'bad-retry', 'job'],
    ]);
  });

  it('fail-parse-specs-dir/: sequences already seen', async () => {
    const r = await lintDir(path.join(fixturesDir, 'fail-parse-specs-dir'));
    expect(r.ok).toBe(false);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      'sequence seq-two already seen in file a.yaml',
      'sequence seq-one already seen in file a.yaml',
      'sequence seq-three already seen in file b.yaml',
    ]);
  });

  it('graph-checks.yaml: the expected graph errors, and none on the healthy sequences', () => {
    const text = fixtureText('graph-checks.yaml');
    const r = lintFixture('graph-checks.yaml');
    const by = (s: string) =>
      r.diagnostics.filter((d) => d.sequence === s).map((d) => [d.check, d.line, d.node, d.message]);
    expect(by('missing-sets')).toEqual([
      [
        'G-sets',
        lineOf(text, 'call-sets-a-b:'),
        'call-sets-a-b',
        "node did not set job args declared in 'sets': call-sets-a-b (failed to set c)",
      ],
    ]);
    expect(by('missing-sets-conditional')).toEqual([
      [
        'G-sets',
        lineOf(text, 'choose:'),
        'choose',
        "node did not set job args declared in 'sets': choose (failed to set b, c)",
      ],
    ]);
    expect(by('missing-job-args')).toEqual([
      [
        'G-args',
        lineOf(text, 'node-2:'),
        'node-2',
        'node node-2: expected job args to be set by some previous node: arg-b',
      ],
    ]);
    expect(by('circular-dependencies')).toEqual([
      ['G-cycle', lineOf(text, '      b:'), undefined, 'cyclical dependencies found amongst: [b c]'],
    ]);
    expect(by('self-dependency')).toEqual([
      ['G-cycle', lineOf(text, 'loop:'), undefined, 'cyclical dependencies found amongst: [loop]'],
    ]);
    for (const s of ['propagate', 'propagate-conditional']) {
      expect(by(s)).toEqual([
        ['G-subsequence', lineOf(text, `  ${s}:`), undefined, 'subsequence failed checks: self-dependency'],
      ]);
    }
    for (const i of [1, 2, 3]) {
      expect(by(`circular-sequences-${i}`)).toEqual([
        [
          'G-seq-cycle',
          lineOf(text, `  circular-sequences-${i}:`),
          undefined,
          'part of cyclical dependency among sequences: circular-sequences-1, circular-sequences-2, circular-sequences-3',
        ],
      ]);
    }
    for (const s of ['sets-a-b', 'sets-a', 'sets-a-b-c', 'needs-arg-b', 'healthy']) expect(by(s)).toEqual([]);
    expect(r.errors).toBe(10);
    expect(r.warnings).toBe(0);
  });

  it('unexpected-field.yaml: unknown key warning, S1 error', () => {
    const text = fixtureText('unexpected-field.yaml');
    const r = lintFixture('unexpected-field.yaml');
    expect(r.diagnostics.map((d) => [d.severity, d.check, d.line, d.sequence, d.node])).toEqual([
      ['error', 'S1', lineOf(text, '- desc:'), 'unexpected-field', undefined],
      ['warning', 'parse-unknown-key', lineOf(text, 'alice: bob'), 'unexpected-field', 'job'],
    ]);
  });

  it('warn-parse-spec.yaml: a duplicate-key warning only', () => {
    const r = lintFixture('warn-parse-spec.yaml');
    expect(checksOf(r.diagnostics)).toEqual(['parse-duplicate-key']);
    expect(r.ok).toBe(true);
    expect(lintTexts({ 'w.yaml': fixtureText('warn-parse-spec.yaml') }, { strict: true }).ok).toBe(false);
  });
});
