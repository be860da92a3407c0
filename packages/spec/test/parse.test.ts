import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintDir } from '../src/lint.js';
import { findSpecFiles, loadSpecs, loadSpecsSync, loadSpecTexts } from '../src/load.js';
import type { NodeSpec, SequenceSpec } from '../src/model.js';
import { checksOf, expectOne, fixturesDir, lineOf, lintTexts, y } from './helpers.js';

const parse = (text: string, file = 'specs.yaml') => loadSpecTexts([[file, text]]);
const seq = (text: string, name = 's') => parse(text).specs.sequences.get(name) as SequenceSpec;
const nodeOf = (text: string, node = 'n', name = 's') => seq(text, name).nodes.get(node) as NodeSpec;

const tmpRoot = mkdtempSync(path.join(tmpdir(), 'spec-parse-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

function writeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpRoot, 'd-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const ok = y`
  sequences:
    s:
      nodes:
        n: {category: job, type: t}`;

describe('file discovery', () => {
  it('reads .yaml and .yml in any case, recursively, in walk order; ignores other files', async () => {
    const dir = writeTree({
      'b.yaml': ok.replace(' s:', ' s-b:'),
      'a/z.yml': ok.replace(' s:', ' s-az:'),
      'a-c.YAML': ok.replace(' s:', ' s-ac:'),
      'A.Yml': ok.replace(' s:', ' s-A:'),
      'notes.txt': 'sequences: [broken',
      'x.yaml.bak': 'sequences: [broken',
      yaml: 'not a spec',
    });
    // Each directory's entries sorted by name, depth first (`a/` before `a-c.YAML`).
    expect(await findSpecFiles(dir)).toEqual(['A.Yml', 'a/z.yml', 'a-c.YAML', 'b.yaml']);
    const r = await loadSpecs(dir);
    expect(r.diagnostics).toEqual([]);
    expect([...r.specs.sequences.keys()]).toEqual(['s-A', 's-az', 's-ac', 's-b']);
    expect(r.specs.sequences.get('s-az')?.file).toBe('a/z.yml');
    expect(loadSpecsSync(dir).files).toEqual(r.files);
  });

  it('reads symlinked files but does not enter symlinked directories', async () => {
    const dir = writeTree({ 'real/s.yaml': ok });
    symlinkSync(path.join(dir, 'real/s.yaml'), path.join(dir, 'link.yaml'));
    symlinkSync(path.join(dir, 'real'), path.join(dir, 'linked-dir'));
    expect(await findSpecFiles(dir)).toEqual(['link.yaml', 'real/s.yaml']);
  });

  it('the parse-specs-dir fixture: .yml read, .txt ignored, one duplicate-key warning', async () => {
    const r = await lintDir(path.join(fixturesDir, 'parse-specs-dir'));
    expect(r.files).toEqual(['a.yaml', 'sub/C.YAML', 'sub/b.yml']);
    expect(r.errors).toBe(0);
    expect(r.ok).toBe(true);
    expect(checksOf(r.diagnostics)).toEqual(['parse-duplicate-key']);
    expect(r.diagnostics[0]).toMatchObject({ file: 'sub/b.yml', line: 11, sequence: 'seq-b', node: 'job' });
    expect(r.specs.sequences.get('seq-b')?.nodes.get('job')?.type).toBe('ping-host');
  });

  it('a missing directory is an exception, not a diagnostic', async () => {
    await expect(loadSpecs(path.join(tmpRoot, 'nope'))).rejects.toThrow(/ENOENT/);
    expect(() => loadSpecsSync(path.join(tmpRoot, 'nope'))).toThrow(/ENOENT/);
  });

  it('an empty directory has no specs', async () => {
    const r = await lintDir(writeTree({ 'readme.md': '# nothing' }));
    expect(r.empty).toBe(true);
    expect(r.ok).toBe(false);
  });
});

describe('duplicate sequences across files', () => {
  it('the later file gets an error naming the first file; the first definition wins', async () => {
    const r = await loadSpecs(path.join(fixturesDir, 'fail-parse-specs-dir'));
    expect(r.diagnostics.map((d) => [d.severity, d.check, d.file, d.line, d.sequence, d.message])).toEqual([
      [
        'error',
        'parse-duplicate-sequence',
        'b.yaml',
        8,
        'seq-two',
        'sequence seq-two already seen in file a.yaml',
      ],
      [
        'error',
        'parse-duplicate-sequence',
        'more/c.yml',
        3,
        'seq-one',
        'sequence seq-one already seen in file a.yaml',
      ],
      [
        'error',
        'parse-duplicate-sequence',
        'more/c.yml',
        8,
        'seq-three',
        'sequence seq-three already seen in file b.yaml',
      ],
    ]);
    expect(r.specs.sequences.get('seq-two')?.file).toBe('a.yaml');
    expect(r.specs.sequences.get('seq-three')?.file).toBe('b.yaml');
  });

  it('parse errors stop the run before the checks', () => {
    const r = lintTexts({ 'a.yaml': ok, 'b.yaml': ok, 'c.yaml': 'sequences:\n  t:\n    nodes: {}\n' });
    expect(checksOf(r.diagnostics)).toEqual(['parse-duplicate-sequence']);
    expect(r.ok).toBe(false);
  });
});

describe('YAML errors and warnings', () => {
  it('a syntax error is an error with its line; the file contributes nothing', () => {
    const text = 'sequences:\n  s:\n    nodes:\n      n: {category: job, type: t\n  t: [\n';
    const r = parse(text, 'bad.yaml');
    expect(r.specs.sequences.size).toBe(0);
    const d = r.diagnostics[0];
    expect(d).toMatchObject({ severity: 'error', check: 'parse-syntax', file: 'bad.yaml' });
    expect(d?.line).toBeGreaterThanOrEqual(4);
    expect(d?.message).toMatch(/^YAML syntax error: /);
  });

  const typeErrors: Array<[string, string, string, string | undefined, string]> = [
    [
      'retry: string',
      '        retry: string',
      'n',
      'n',
      `node n: 'retry' must be an unsigned integer, got "string"`,
    ],
    ['retry: -1', '        retry: -1', 'n', 'n', "'retry' must be an unsigned integer"],
    ['parallel: 1.5', '        parallel: 1.5', 'n', 'n', "'parallel' must be an unsigned integer"],
    ['deps scalar', '        deps: a', 'n', 'n', `node n: 'deps' must be a list, got "a"`],
    ['each scalar', '        each: instances:instance', 'n', 'n', "'each' must be a list"],
    ['args mapping', '        args: {expected: a}', 'n', 'n', "'args' must be a list, got a mapping"],
    ['type list', '        type: [a, b]', 'n', 'n', "'type' must be a string, got a list"],
    ['eq list', '        eq: [a]', 'n', 'n', "'eq' must be a mapping, got a list"],
  ];
  for (const [title, line, , node, message] of typeErrors) {
    it(`type error: ${title}`, () => {
      const text =
        `sequences:\n  s:\n    nodes:\n      n:\n        category: job\n        type: t\n${line}\n`.replace(
          '        type: t\n        type:',
          '        type:',
        );
      const r = parse(text);
      expect(r.specs.sequences.size).toBe(0);
      expectOne(r.diagnostics, {
        severity: 'error',
        check: 'parse-type',
        line: lineOf(text, line.trim()),
        sequence: 's',
        node,
        message,
      });
    });
  }

  it('type errors at sequence level: ops as a scalar, request not a boolean, nodes a list', () => {
    const text = y`
      sequences:
        s:
          request: "true"
          acl:
            - role: r
              ops: admin
          nodes: [a]`;
    const r = parse(text);
    expect(r.specs.sequences.size).toBe(0);
    expect(r.diagnostics.map((d) => [d.check, d.line, d.sequence, d.message])).toEqual([
      ['parse-type', lineOf(text, 'request:'), 's', `'request' must be a boolean, got "true"`],
      ['parse-type', lineOf(text, 'ops: admin'), 's', `'acl.ops' must be a list, got "admin"`],
      ['parse-type', lineOf(text, 'nodes: [a]'), 's', "'nodes' must be a mapping, got a list"],
    ]);
  });

  it('a type error in one file does not affect another file', () => {
    const r = loadSpecTexts([
      ['bad.yaml', 'sequences:\n  bad:\n    nodes:\n      n: {category: job, type: t, retry: x}\n'],
      ['good.yaml', ok],
    ]);
    expect([...r.specs.sequences.keys()]).toEqual(['s']);
    expect(checksOf(r.diagnostics)).toEqual(['parse-type']);
  });

  it('a document that is not a mapping is a type error', () => {
    expectOne(parse('- just\n- a list\n').diagnostics, {
      severity: 'error',
      check: 'parse-type',
      line: 1,
      message: 'the document must be a mapping, got a list',
    });
  });

  it('unknown keys are warnings at every level, with their line', () => {
    const text = y`
      version: 2
      sequences:
        s:
          owner: me
          args:
            required:
              - name: a
                type: string
            extra: []
          acl:
            - role: r
              ops: [start]
              who: me
          nodes:
            n:
              category: job
              type: t
              alice: bob
              args:
                - expected: a
                  default: x
              sets:
                - arg: y
                  to: z`;
    const r = parse(text);
    expect(r.specs.sequences.size).toBe(1);
    expect(r.diagnostics.map((d) => [d.severity, d.check, d.line, d.sequence, d.node])).toEqual([
      ['warning', 'parse-unknown-key', lineOf(text, 'version: 2'), undefined, undefined],
      ['warning', 'parse-unknown-key', lineOf(text, 'owner: me'), 's', undefined],
      ['warning', 'parse-unknown-key', lineOf(text, 'type: string'), 's', undefined],
      ['warning', 'parse-unknown-key', lineOf(text, 'extra: []'), 's', undefined],
      ['warning', 'parse-unknown-key', lineOf(text, 'who: me'), 's', undefined],
      ['warning', 'parse-unknown-key', lineOf(text, 'alice: bob'), 's', 'n'],
      ['warning', 'parse-unknown-key', lineOf(text, 'default: x'), 's', 'n'],
      ['warning', 'parse-unknown-key', lineOf(text, 'to: z'), 's', 'n'],
    ]);
    expect(r.diagnostics[5]?.message).toBe(
      "node n: unknown key 'alice' in node (ignored; expected one of: category, type, args, sets, deps, each, parallel, retry, retryWait, retryBackoff, retryWaitMax, timeout, if, eq)",
    );
  });

  it('duplicate keys are warnings; the last value is used (the earlier one is not even read)', () => {
    const text = y`
      sequences:
        s:
          request: false
          request: true
          nodes:
            n:
              category: sequence
              category: job
              type: t
            n:
              category: job
              type: second`;
    const r = parse(text);
    expect(r.diagnostics.map((d) => [d.check, d.line, d.sequence, d.node, d.message])).toEqual([
      [
        'parse-duplicate-key',
        lineOf(text, 'request: true'),
        's',
        undefined,
        "duplicate key 'request' in sequence (the last one is used)",
      ],
      [
        'parse-duplicate-key',
        lineOf(text, '    n:', 2),
        's',
        undefined,
        "duplicate key 'n' in 'nodes' (the last one is used)",
      ],
    ]);
    const s = r.specs.sequences.get('s') as SequenceSpec;
    expect(s.request).toBe(true);
    expect(s.nodes.get('n')?.type).toBe('second');
  });

  it('the warn-parse-spec fixture only warns', async () => {
    const dir = writeTree({ 'warn-parse-spec.yaml': '' });
    writeFileSync(
      path.join(dir, 'warn-parse-spec.yaml'),
      (await import('node:fs')).readFileSync(path.join(fixturesDir, 'warn-parse-spec.yaml')),
    );
    const r = await lintDir(dir);
    expect(r.ok).toBe(true);
    expect(r.diagnostics.map((d) => [d.severity, d.check, d.line, d.sequence, d.node])).toEqual([
      ['warning', 'parse-duplicate-key', 8, 'warn-parse', 'job'],
    ]);
  });

  it('other YAML warnings are passed on (an unknown directive)', () => {
    const r = parse(`%FOO bar\n---\n${ok}\n`);
    expect(r.specs.sequences.size).toBe(1);
    expectOne(r.diagnostics, {
      severity: 'warning',
      check: 'parse-yaml',
      line: 1,
      message: 'YAML warning: Unknown directive %FOO',
    });
  });

  it('an unreadable file is an error on that file; the others load', async () => {
    const dir = writeTree({ 'a.yaml': ok });
    // /proc/self/mem is a regular file that fails to read (EIO) even for root,
    // so the read error path is exercised whoever runs the tests.
    symlinkSync('/proc/self/mem', path.join(dir, 'b.yaml'));
    const r = await loadSpecs(dir);
    expect([...r.specs.sequences.keys()]).toEqual(['s']);
    expect(r.diagnostics).toMatchObject([
      { severity: 'error', check: 'parse-read', file: 'b.yaml', line: 1 },
    ]);
    expect(r.diagnostics[0]?.message).toMatch(/^cannot read file: .*EIO/);
  });

  it('only the first YAML document is read (warning)', () => {
    const r = parse(`${ok}\n---\nsequences: {}\n`);
    expect(r.specs.sequences.size).toBe(1);
    expectOne(r.diagnostics, {
      severity: 'warning',
      check: 'parse-multiple-documents',
      line: 6,
      message: 'only the first YAML document',
    });
  });

  it('an empty file or one without sequences contributes nothing, silently', () => {
    expect(parse('')).toMatchObject({ diagnostics: [] });
    expect(parse('# just a comment\n').diagnostics).toEqual([]);
    expect(parse('sequences:\n').specs.sequences.size).toBe(0);
    expect(parse('---\nsequences: ~\n').diagnostics).toEqual([]);
  });
});

describe('values and normalisation', () => {
  it('string fields keep the literal scalar text; empty/null is "not set", "" is set and empty', () => {
    const text = y`
      sequences:
        s:
          args:
            optional:
              - {name: n100, default: 100}
              - {name: yes, default: yes}
              - {name: float, default: 1.50}
              - {name: hex, default: 0x1F}
              - {name: empty, default: ""}
              - {name: nul, default: ~}
              - {name: nothing, default: }
              - {name: word, default: null}
              - {name: quoted-null, default: "null"}
          nodes:
            n: {category: job, type: t}`;
    const defaults = Object.fromEntries(seq(text).args.optional.map((a) => [a.name, a.default]));
    expect(defaults).toEqual({
      n100: '100',
      yes: 'yes',
      float: '1.50',
      hex: '0x1F',
      empty: '',
      nul: undefined,
      nothing: undefined,
      word: undefined,
      'quoted-null': 'null',
    });
  });

  it('normalises sets.as, args.given and retryWait', () => {
    const text = y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: a
                - expected: b
                  given: c
              sets:
                - arg: x
                - arg: y
                  as: z
              retry: 2
            m:
              category: job
              type: t
            w:
              category: job
              type: t
              retry: 1
              retryWait: 2s`;
    const n = nodeOf(text);
    expect(n.args).toEqual([
      { expected: 'a', given: 'a' },
      { expected: 'b', given: 'c' },
    ]);
    expect(n.sets).toEqual([
      { arg: 'x', as: 'x' },
      { arg: 'y', as: 'z' },
    ]);
    expect([n.retry, n.retryWait]).toEqual([2, '0s']);
    const m = nodeOf(text, 'm');
    expect([m.retry, m.retryWait, m.parallel, m.deps, m.each, m.if, m.eq]).toEqual([
      0,
      '',
      undefined,
      [],
      [],
      undefined,
      {},
    ]);
    expect(nodeOf(text, 'w').retryWait).toBe('2s');
  });

  it('booleans and unsigned integers in their YAML spellings', () => {
    const t = (v: string) =>
      seq(`sequences:\n  s:\n    request: ${v}\n    nodes: {n: {category: job, type: t}}\n`);
    expect(['yes', 'True', 'on', 'y'].map((v) => t(v).request)).toEqual([true, true, true, true]);
    expect(['no', 'FALSE', 'off', '~'].map((v) => t(v).request)).toEqual([false, false, false, false]);
    const r = (v: string) =>
      nodeOf(
        `sequences:\n  s:\n    nodes:\n      n: {category: job, type: t, each: [], retry: ${v}, parallel: ${v}}\n`,
      );
    expect([r('3').retry, r('0x10').retry, r('1_000').retry, r('+2').parallel]).toEqual([3, 16, 1000, 2]);
  });

  it('keeps positions and the model fields', () => {
    const text = y`
      sequences:
        s:
          request: true
          args:
            required:
              - name: a
                desc: the a
          acl:
            - role: r
              admin: true
          nodes:
            n:
              category: conditional
              if: a
              eq: {x: noop, default: noop}
              deps: []
              each: [l:e]
              parallel: 4`;
    const s = seq(text, 's');
    expect(s).toMatchObject({
      name: 's',
      file: 'specs.yaml',
      request: true,
      pos: { file: 'specs.yaml', line: 2 },
    });
    expect(s.args.required).toEqual([
      { name: 'a', desc: 'the a', default: undefined, pos: { file: 'specs.yaml', line: 6 } },
    ]);
    expect(s.acl).toEqual([{ role: 'r', admin: true, ops: [], pos: { file: 'specs.yaml', line: 9 } }]);
    const n = s.nodes.get('n') as NodeSpec;
    expect(n).toMatchObject({
      name: 'n',
      category: 'conditional',
      type: undefined,
      if: 'a',
      eq: { x: 'noop', default: 'noop' },
      each: [{ list: 'l', element: 'e' }],
      parallel: 4,
      pos: { file: 'specs.yaml', line: 12 },
    });
    expect(n.raw?.lines.parallel).toBe(18);
  });

  it('anchors, aliases and merge keys', () => {
    const text = y`
      sequences:
        s:
          nodes:
            a: &job
              category: job
              type: t
              retry: 2
            b:
              <<: *job
              type: other
              deps: [a]
            c: *job`;
    const s = seq(text);
    expect(s.nodes.get('b')).toMatchObject({ category: 'job', type: 'other', retry: 2, deps: ['a'] });
    expect(s.nodes.get('c')).toMatchObject({ category: 'job', type: 't', retry: 2 });
    expect(parse(text).diagnostics).toEqual([]);
  });
});
