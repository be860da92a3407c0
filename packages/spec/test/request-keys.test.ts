/** The request-level `lock`, `lockMode` and `notify` keys: parsed into the model, checked by the linter. */
import { describe, expect, it } from 'vitest';
import { loadSpecTexts } from '../src/load.js';
import { checksOf, expectFinding, lintText } from './helpers.js';

function spec(keys: string[], request = true): string {
  return [
    'sequences:',
    '  s:',
    `    request: ${request}`,
    '    args:',
    '      required:',
    '        - name: host',
    '        - name: hosts',
    ...keys.map((k) => `    ${k}`),
    '    nodes:',
    '      j: {category: job, type: t, args: [{expected: host}, {expected: hosts}]}',
  ].join('\n');
}

describe('lock, lockMode, notify', () => {
  it('parses into the model and lints clean', () => {
    const text = spec(['lock: [host, hosts]', 'lockMode: fail', 'notify: ["https://hooks.example/x"]']);
    const seq = loadSpecTexts([['specs.yaml', text]]).specs.sequences.get('s');
    expect(seq?.lock).toEqual(['host', 'hosts']);
    expect(seq?.lockMode).toBe('fail');
    expect(seq?.notify).toEqual(['https://hooks.example/x']);
    expect(lintText(text).diagnostics).toEqual([]);
  });

  it('lock names must be args of the request', () => {
    expectFinding(spec(['lock: [host, cluster]']), {
      severity: 'error',
      check: 'lock-arg',
      at: 'lock:',
      sequence: 's',
      message: ['"cluster"', "field 'lock'"],
    });
  });

  it('lockMode is wait or fail', () => {
    expectFinding(spec(['lock: [host]', 'lockMode: queue']), {
      severity: 'error',
      check: 'lock-mode',
      at: 'lockMode:',
      sequence: 's',
      message: ['"queue"', 'wait or fail'],
    });
  });

  it('notify entries are http(s) URLs', () => {
    expectFinding(spec(['notify: ["ftp://x/y", "https://ok.example/"]']), {
      severity: 'error',
      check: 'notify-url',
      at: 'notify:',
      sequence: 's',
      message: '"ftp://x/y"',
    });
  });

  it('warns when set on a sequence that is not a request type', () => {
    const text = spec(['lock: [host]'], false);
    expect(checksOf(lintText(text).diagnostics)).toContain('request-keys');
  });
});
