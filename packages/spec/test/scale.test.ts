/** The Request Manager lints at boot: a few hundred related sequences must load and check cleanly (timing is for benchmarks). */
import { describe, expect, it } from 'vitest';
import { checkSpecs } from '../src/check.js';
import { loadSpecTexts } from '../src/load.js';

/** `n` sequences in files of 10; each calls the previous one and chains 5 jobs. */
function generate(n: number): Array<[string, string]> {
  const files: Array<[string, string]> = [];
  for (let f = 0; f < n / 10; f++) {
    let t = 'sequences:\n';
    for (let k = 0; k < 10; k++) {
      const i = f * 10 + k;
      t += `  seq-${i}:\n    request: true\n    args:\n      required: [{name: host}]\n      optional: [{name: opt, default: "1"}]\n    acl: [{role: ops, ops: [start, stop]}]\n    nodes:\n`;
      for (let j = 0; j < 5; j++) {
        const deps = j === 0 ? '[]' : `[n${j - 1}]`;
        const given = j > 0 ? `, {expected: in, given: out${j - 1}}` : '';
        t +=
          j === 4 && i > 0
            ? `      n${j}: {category: sequence, type: seq-${i - 1}, args: [{expected: host}], sets: [{arg: out0, as: sub-out}], deps: ${deps}}\n`
            : `      n${j}: {category: job, type: t, args: [{expected: host}${given}], sets: [{arg: out${j}}], deps: ${deps}, retry: 1}\n`;
      }
    }
    files.push([`f${f}.yaml`, t]);
  }
  return files;
}

describe('scale', () => {
  it('300 sequences load and check without errors', () => {
    const files = generate(300);
    const loaded = loadSpecTexts(files);
    const found = checkSpecs(loaded.specs);
    expect(loaded.specs.sequences.size).toBe(300);
    expect(found.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
