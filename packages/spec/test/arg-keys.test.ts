/** The `secret` and `pattern` keys of sequence args: parsed into the model, checked by the linter. */
import { describe, expect, it } from 'vitest';
import { argPatternProblem, argPatternRegExp } from '../src/arg-pattern.js';
import { loadSpecTexts } from '../src/load.js';
import type { SequenceSpec } from '../src/model.js';
import { checksOf, expectFinding, lintText, y } from './helpers.js';

function seq(text: string, name: string): SequenceSpec {
  const { specs, diagnostics } = loadSpecTexts([['specs.yaml', text]]);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return specs.sequences.get(name) as SequenceSpec;
}

/** A request `s` with one arg of `kind`, written as the YAML lines `argLines`, and a job node using it. */
function oneArg(kind: string, name: string, argLines: string): string {
  return [
    'sequences:',
    '  s:',
    '    request: true',
    '    args:',
    `      ${kind}:`,
    `        - name: ${name}`,
    ...argLines.split('\n').map((l) => `          ${l}`),
    '    nodes:',
    `      j: {category: job, type: t, args: [{expected: ${name}}]}`,
  ].join('\n');
}

const valid = y`
  sequences:
    s:
      request: true
      args:
        required:
          - name: host
            pattern: '[a-z0-9]+(\\.[a-z0-9]+)*'
          - name: token
            secret: true
        optional:
          - name: mode
            default: fast
            pattern: fast|slow
            secret: no
      nodes:
        j: {category: job, type: t, args: [{expected: host}, {expected: token}, {expected: mode}]}`;

describe('secret and pattern: parsing', () => {
  it('carries both keys into the model, absent when not set', () => {
    const s = seq(valid, 's');
    const [host, token] = s.args.required;
    expect(host).toMatchObject({ name: 'host', pattern: '[a-z0-9]+(\\.[a-z0-9]+)*' });
    expect(host && 'secret' in host).toBe(false);
    expect(token).toMatchObject({ name: 'token', secret: true });
    expect(token && 'pattern' in token).toBe(false);
    expect(s.args.optional[0]).toMatchObject({ name: 'mode', secret: false, pattern: 'fast|slow' });
  });

  it('a valid spec with both keys lints clean (no unknown-key warnings)', () => {
    const r = lintText(valid);
    expect(r.diagnostics).toEqual([]);
  });
});

describe('secret and pattern: linter findings', () => {
  it('arg-pattern: a pattern that does not compile, with file, line, sequence and reason', () => {
    const text = oneArg('required', 'host', "pattern: '[a-z'");
    const d = expectFinding(text, {
      severity: 'error',
      check: 'arg-pattern',
      at: '- name: host',
      sequence: 's',
      message: ['invalid value "[a-z" in field \'args.required.pattern\'', 'arg host'],
    });
    expect(d.message).toMatch(/regular expression/);
  });

  it('a pattern that only compiles unanchored is refused too (it cannot escape the anchors)', () => {
    expect(argPatternProblem('a)|(b')).toBeDefined();
    expect(argPatternProblem('a|b')).toBeUndefined();
    expect(argPatternRegExp('a|b').test('ab')).toBe(false);
    expect(argPatternRegExp('a|b').test('b')).toBe(true);
  });

  it('secret of the wrong type is a parse-type error naming the field', () => {
    const text = oneArg('required', 'token', 'secret: sometimes');
    expectFinding(text, {
      severity: 'error',
      check: 'parse-type',
      at: 'secret: sometimes',
      sequence: 's',
      message: '\'args.required.secret\' must be a boolean, got "sometimes"',
    });
  });

  it('a pattern that is not a string is a parse-type error', () => {
    const text = oneArg('required', 'host', 'pattern: [a, b]');
    expectFinding(text, {
      severity: 'error',
      check: 'parse-type',
      at: 'pattern: [a, b]',
      sequence: 's',
      message: "'args.required.pattern' must be a string",
    });
  });

  it('arg-pattern-default: a default that does not match its own pattern is a warning', () => {
    const text = oneArg('optional', 'mode', 'default: medium\npattern: fast|slow');
    expectFinding(text, {
      severity: 'warning',
      check: 'arg-pattern-default',
      at: '- name: mode',
      sequence: 's',
      message: 'arg mode: default "medium" does not match its pattern "fast|slow"',
    });
    expect(checksOf(lintText(text.replace('medium', 'slow')).diagnostics)).toEqual([]);
  });
});
