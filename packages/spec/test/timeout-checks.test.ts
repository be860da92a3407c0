/** The timeout and backoff keys: parsed onto the model, and each linter finding with its file, line and node. */
import { describe, expect, it } from 'vitest';
import { checksOf, expectFinding, lintText, y } from './helpers.js';

/** A request sequence `s` with one job node `j` (its extra keys indented for the node). */
function jobNode(keys: string, seqKeys = '', request = true): string {
  const extra = keys
    .split('\n')
    .filter(Boolean)
    .map((l) => `      ${l}`)
    .join('\n');
  return [
    'sequences:',
    '  s:',
    ...(request ? ['    request: true'] : []),
    ...(seqKeys ? [`    ${seqKeys}`] : []),
    '    nodes:',
    '      j:',
    '        category: job',
    '        type: t',
    extra.replace(/^ {6}/gm, '        '),
    '',
  ].join('\n');
}

describe('timeout and backoff keys', () => {
  it('are read onto the model and lint clean', () => {
    const text = y`
      sequences:
        s:
          request: true
          timeout: 10m
          nodes:
            j:
              category: job
              type: t
              timeout: 30s
              retry: 2
              retryWait: 500ms
              retryBackoff: exponential
              retryWaitMax: 5s
            sub:
              category: sequence
              type: inner
              deps: [j]
              retry: 1
              timeout: 2m
        inner:
          nodes:
            k: {category: job, type: t, retry: 1, retryBackoff: constant}`;
    const r = lintText(text);
    expect(r.diagnostics).toEqual([]);
    const s = r.specs.sequences.get('s');
    expect(s?.timeout).toBe('10m');
    expect(s?.nodes.get('j')).toMatchObject({
      timeout: '30s',
      retryBackoff: 'exponential',
      retryWaitMax: '5s',
    });
    expect(s?.nodes.get('sub')?.timeout).toBe('2m');
    expect(r.specs.sequences.get('inner')?.timeout).toBeUndefined();
  });

  it('a job timeout that is not a duration', () => {
    expectFinding(jobNode('timeout: 30 seconds'), {
      severity: 'error',
      check: 'timeout',
      at: 'timeout:',
      sequence: 's',
      node: 'j',
      message: ['node j: invalid value "30 seconds"', "'timeout'", 'a duration such as 500ms'],
    });
  });

  it('a negative or zero timeout', () => {
    for (const v of ['-5s', '0s'])
      expectFinding(jobNode(`timeout: ${v}`), {
        severity: 'error',
        check: 'timeout',
        at: 'timeout:',
        sequence: 's',
        node: 'j',
        message: [`"${v}"`, 'a duration greater than 0'],
      });
  });

  it('a request timeout that is not a duration, and one on a sequence that is not a request', () => {
    expectFinding(jobNode('', 'timeout: soon'), {
      severity: 'error',
      check: 'timeout',
      at: 'timeout: soon',
      sequence: 's',
      message: ['invalid value "soon"', "'timeout'"],
    });
    expectFinding(jobNode('', 'timeout: 5m', false), {
      severity: 'error',
      check: 'timeout-place',
      at: 'timeout: 5m',
      sequence: 's',
      message: ['only a request sequence (request: true) has a timeout'],
    });
  });

  it('a timeout on a node without a valid category', () => {
    const text = y`
      sequences:
        s:
          request: true
          nodes:
            j:
              category: task
              type: t
              timeout: 5s`;
    expectFinding(text, {
      severity: 'error',
      check: 'timeout-place',
      at: 'timeout: 5s',
      sequence: 's',
      node: 'j',
      message: ['only job, sequence and conditional nodes have one'],
    });
  });

  it('retryBackoff not constant or exponential, or without retry', () => {
    expectFinding(jobNode('retry: 1\nretryBackoff: linear'), {
      severity: 'error',
      check: 'retry-backoff',
      at: 'retryBackoff:',
      sequence: 's',
      node: 'j',
      message: ['invalid value "linear"', 'constant or exponential'],
    });
    expectFinding(jobNode('retryBackoff: exponential'), {
      severity: 'error',
      check: 'retry-backoff',
      at: 'retryBackoff:',
      sequence: 's',
      node: 'j',
      message: ["field 'retry' missing", "required when 'retryBackoff' field set"],
    });
  });

  it('retryWaitMax: bad duration, without exponential backoff, smaller than retryWait', () => {
    const at = {
      severity: 'error',
      check: 'retry-wait-max',
      at: 'retryWaitMax:',
      sequence: 's',
      node: 'j',
    } as const;
    expectFinding(jobNode('retry: 1\nretryBackoff: exponential\nretryWaitMax: -1s'), {
      ...at,
      message: ['"-1s"', 'a duration of 0 or more'],
    });
    expectFinding(jobNode('retry: 1\nretryWaitMax: 10s'), {
      ...at,
      message: ["field 'retryBackoff' missing", "must be 'exponential'"],
    });
    expectFinding(jobNode('retry: 1\nretryBackoff: constant\nretryWaitMax: 10s'), {
      ...at,
      message: ["must be 'exponential'"],
    });
    expectFinding(jobNode('retry: 3\nretryWait: 2s\nretryBackoff: exponential\nretryWaitMax: 1500ms'), {
      ...at,
      message: ['invalid value "1500ms"', 'at least retryWait (2s)'],
    });
  });

  it('the file of the finding is the file that defines the sequence', () => {
    const r = lintText(jobNode('timeout: x'));
    expect(checksOf(r.diagnostics)).toEqual(['timeout']);
    expect(r.diagnostics[0]).toMatchObject({ file: 'specs.yaml', line: 8 });
  });
});
