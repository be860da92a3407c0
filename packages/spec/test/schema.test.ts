/**
 * The JSON Schema of the spec format (schema/spec.schema.json) against the parser and the
 * static checks: a file fails the schema exactly when the linter rejects its shape (a type
 * error, an unknown key, or a missing/invalid key that a static check reports).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadSpecTexts } from '../src/load.js';
import { staticChecks } from '../src/static-checks.js';
import { packageDir, repoRoot } from './helpers.js';

const schema = JSON.parse(readFileSync(path.join(packageDir, 'schema/spec.schema.json'), 'utf8'));
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

/** Findings about a file's shape: the ones the schema mirrors. Graph and cross-sequence checks are not. */
const SHAPE_CHECKS = new Set([
  'parse-type',
  'parse-unknown-key',
  ...['S1', 'S2', 'S3', 'S4', 'S5', 'S7', 'S11'],
  ...['N1', 'N2', 'N4', 'N5', 'N6', 'N7', 'N8', 'N9', 'N10', 'N11', 'N12', 'N13'],
  // The duration syntax and the backoff values (not: a zero timeout, or a backoff without retry).
  ...['timeout', 'retry-backoff'],
]);

/** How an editor reads the file: YAML 1.2 core types, merge keys, the first document. */
function schemaErrors(text: string): string[] {
  const data = parseDocument(text, { merge: true, uniqueKeys: false }).toJS();
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

/** Shape findings of the parser and the static checks, for one file on its own. */
function shapeFindings(file: string, text: string): string[] {
  const loaded = loadSpecTexts([[file, text]]);
  return [...loaded.diagnostics, ...staticChecks(loaded.specs)]
    .filter((d) => SHAPE_CHECKS.has(d.check))
    .map((d) => `${d.check}: ${d.message}`);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

const FIXTURE_DIRS = ['specs', 'bench/specs', 'packages/spec/test/fixtures', 'packages/chain/test/fixtures'];
const fixtureFiles = [
  ...FIXTURE_DIRS.flatMap((d) => yamlFiles(path.join(repoRoot, d))),
  ...yamlFiles(path.join(repoRoot, 'test')).filter((f) => f.split(path.sep).some((p) => p.endsWith('specs'))),
].sort();

describe('spec JSON Schema on the repository fixtures', () => {
  it('finds the fixtures, valid and invalid', () => {
    expect(fixtureFiles.length).toBeGreaterThan(40);
    const rejected = fixtureFiles.filter((f) => shapeFindings(f, readFileSync(f, 'utf8')).length > 0);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length).toBeLessThan(fixtureFiles.length / 2);
  });

  it.each(fixtureFiles.map((f) => [path.relative(repoRoot, f), f]))('%s', (_rel, file) => {
    const text = readFileSync(file, 'utf8');
    const findings = shapeFindings(file, text);
    const errors = schemaErrors(text);
    // Both agree: valid (no findings, no schema errors) or invalid (both non-empty).
    expect({ schemaRejects: errors.length > 0, findings }).toEqual({
      schemaRejects: findings.length > 0,
      findings,
    });
  });
});

/** One request sequence with one node `n`; `extra` goes before `nodes` (6-space indent). */
function seq(nodeYaml: string, extra = ''): string {
  return [
    'sequences:',
    '  s:',
    '    request: true',
    ...(extra ? [extra] : []),
    '    nodes:',
    '      n:',
    nodeYaml,
    '',
  ].join('\n');
}

/** Each case: the YAML, and the check the linter reports for it. */
const INVALID: Array<[name: string, text: string, check: string]> = [
  ['a root that is a list', '- sequences\n', 'parse-type'],
  ['an unknown top-level key', 'sequence:\n  s: {}\n', 'parse-unknown-key'],
  ['sequences as a list', 'sequences:\n  - s\n', 'parse-type'],
  [
    'an unknown sequence key',
    seq('        category: job\n        type: t', '    nodez: {}'),
    'parse-unknown-key',
  ],
  [
    'request not a boolean',
    seq('        category: job\n        type: t').replace('request: true', 'request: maybe'),
    'parse-type',
  ],
  [
    'request quoted',
    seq('        category: job\n        type: t').replace('request: true', 'request: "true"'),
    'parse-type',
  ],
  ['args as a list', seq('        category: job\n        type: t', '    args: [a]'), 'parse-type'],
  [
    'an unknown args kind',
    seq('        category: job\n        type: t', '    args:\n      needed: []'),
    'parse-unknown-key',
  ],
  [
    'a required arg without a name',
    seq('        category: job\n        type: t', '    args:\n      required:\n        - desc: d'),
    'S1',
  ],
  [
    'an arg name that is a mapping',
    seq('        category: job\n        type: t', '    args:\n      required:\n        - name: {a: b}'),
    'parse-type',
  ],
  [
    'an unknown arg key',
    seq(
      '        category: job\n        type: t',
      '    args:\n      required:\n        - name: a\n          descr: d',
    ),
    'parse-unknown-key',
  ],
  [
    'an optional arg without a default',
    seq('        category: job\n        type: t', '    args:\n      optional:\n        - name: a'),
    'S4',
  ],
  [
    'a static arg with a null default',
    seq(
      '        category: job\n        type: t',
      '    args:\n      static:\n        - name: a\n          default: ~',
    ),
    'S5',
  ],
  [
    'an acl entry without a role',
    seq('        category: job\n        type: t', '    acl:\n      - admin: true'),
    'S7',
  ],
  [
    'acl ops not a list',
    seq('        category: job\n        type: t', '    acl:\n      - role: r\n        ops: start'),
    'parse-type',
  ],
  ['a sequence without nodes', 'sequences:\n  s:\n    request: true\n', 'S11'],
  ['a null sequence', 'sequences:\n  s:\n', 'S11'],
  ['a node without a category', seq('        type: t'), 'N1'],
  ['an invalid category', seq('        category: task\n        type: t'), 'N2'],
  ['a job node without a type', seq('        category: job'), 'N12'],
  ['a conditional without if', seq('        category: conditional\n        eq: {a: s}'), 'N10'],
  ['a conditional without eq', seq('        category: conditional\n        if: a'), 'N11'],
  [
    'an unknown node key',
    seq('        category: job\n        type: t\n        retries: 2'),
    'parse-unknown-key',
  ],
  ['type as a list', seq('        category: job\n        type: [t]'), 'parse-type'],
  ['deps as a string', seq('        category: job\n        type: t\n        deps: a'), 'parse-type'],
  ['retry negative', seq('        category: job\n        type: t\n        retry: -1'), 'parse-type'],
  ['retry a word', seq('        category: job\n        type: t\n        retry: twice'), 'parse-type'],
  ['retry quoted', seq('        category: job\n        type: t\n        retry: "2"'), 'parse-type'],
  [
    'retryWait not a duration',
    seq('        category: job\n        type: t\n        retry: 1\n        retryWait: 5 seconds'),
    'N13',
  ],
  [
    'retryWait without a unit',
    seq('        category: job\n        type: t\n        retry: 1\n        retryWait: 5'),
    'N13',
  ],
  [
    'parallel zero',
    seq('        category: sequence\n        type: noop\n        each: [a:b]\n        parallel: 0'),
    'N9',
  ],
  [
    'an each entry without a colon',
    seq('        category: sequence\n        type: noop\n        each: [ab]'),
    'N4',
  ],
  ['a null node arg', seq('        category: job\n        type: t\n        args:\n        - ~'), 'N5'],
  [
    'a node arg without expected',
    seq('        category: job\n        type: t\n        args:\n        - given: g'),
    'N6',
  ],
  [
    'an unknown node arg key',
    seq('        category: job\n        type: t\n        args:\n        - expect: a'),
    'parse-unknown-key',
  ],
  ['a null sets entry', seq('        category: job\n        type: t\n        sets:\n        - ~'), 'N7'],
  [
    'a sets entry without arg',
    seq('        category: job\n        type: t\n        sets:\n        - as: b'),
    'N8',
  ],
  ['eq as a list', seq('        category: conditional\n        if: a\n        eq: [s]'), 'parse-type'],
  [
    'a job timeout not a duration',
    seq('        category: job\n        type: t\n        timeout: 5 s'),
    'timeout',
  ],
  ['a negative job timeout', seq('        category: job\n        type: t\n        timeout: -5s'), 'timeout'],
  [
    'a request timeout not a duration',
    seq('        category: job\n        type: t', '    timeout: 1 hour'),
    'timeout',
  ],
  [
    'an unknown retryBackoff',
    seq('        category: job\n        type: t\n        retry: 1\n        retryBackoff: linear'),
    'retry-backoff',
  ],
];

/** Shapes the linter accepts, written the ways YAML allows. */
const VALID: Array<[name: string, text: string]> = [
  ['an empty file', ''],
  ['no sequences', 'sequences:\n'],
  [
    'YAML 1.1 booleans',
    seq(
      '        category: job\n        type: t',
      '    acl:\n      - role: r\n        admin: no\n        ops: [start]',
    ).replace('request: true', 'request: yes'),
  ],
  [
    'numbers and booleans as text',
    seq(
      '        category: job\n        type: 5',
      '    args:\n      optional:\n        - name: 7\n          desc: true\n          default: 100',
    ),
  ],
  [
    'an empty default',
    seq(
      '        category: job\n        type: t',
      '    args:\n      static:\n        - name: a\n          default: ""',
    ),
  ],
  [
    'null lists and mappings',
    seq(
      '        category: job\n        type: t\n        args:\n        sets: ~\n        deps:\n        each:',
    ),
  ],
  [
    'retryWait 0 and durations',
    seq('        category: job\n        type: t\n        retry: 0x3\n        retryWait: 1m30.5s'),
  ],
  ['retryWait bare 0', seq('        category: job\n        type: t\n        retry: 1\n        retryWait: 0')],
  [
    'timeouts and an exponential backoff',
    seq(
      '        category: job\n        type: t\n        timeout: 1.5s\n        retry: 2\n        retryWait: 1s\n        retryBackoff: exponential\n        retryWaitMax: 1m',
      '    timeout: 1h',
    ),
  ],
  [
    'a conditional with default',
    seq(
      '        category: conditional\n        if: a\n        eq:\n          x: noop\n          default: noop',
    ),
  ],
  [
    'each with parallel',
    seq('        category: sequence\n        type: noop\n        each: ["hosts:host"]\n        parallel: 2'),
  ],
];

describe('spec JSON Schema on written cases', () => {
  it.each(INVALID)('rejects %s, as the linter does', (_name, text, check) => {
    expect(shapeFindings('case.yaml', text).map((f) => f.split(':')[0])).toContain(check);
    expect(schemaErrors(text)).not.toEqual([]);
  });

  it.each(VALID)('accepts %s, as the linter does', (_name, text) => {
    expect(shapeFindings('case.yaml', text)).toEqual([]);
    expect(schemaErrors(text)).toEqual([]);
  });

  it('describes the secret and pattern arg keys', () => {
    const arg = (lines: string) =>
      seq(
        '        category: job\n        type: t',
        `    args:\n      required:\n        - name: a\n${lines}`,
      );
    expect(schemaErrors(arg('          secret: true\n          pattern: "^[a-z]+$"'))).toEqual([]);
    expect(schemaErrors(arg('          secret: maybe'))).not.toEqual([]);
    expect(schemaErrors(arg('          pattern: [a]'))).not.toEqual([]);
  });

  it('is served as the package export @spincycle/spec/schema.json', () => {
    const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
    expect(pkg.exports['./schema.json']).toBe('./schema/spec.schema.json');
    expect(pkg.files).toContain('schema');
  });
});
