/** The built `dist/cli.js`, run as a child process the way `pnpm spinc-lint` runs it. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonReport } from '../src/format.js';
import { fixturesDir, packageDir, repoRoot, y } from './helpers.js';

const cli = path.join(packageDir, 'dist/cli.js');
const tmpRoot = mkdtempSync(path.join(tmpdir(), 'spec-cli-'));

beforeAll(() => {
  // `pnpm test` builds first; build here too when run on its own.
  if (!existsSync(cli)) execFileSync('npx', ['tsc', '-b', packageDir], { cwd: repoRoot, stdio: 'inherit' });
});
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: repoRoot, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function specsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpRoot, 'd-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const valid = y`
  sequences:
    good:
      request: true
      nodes:
        j: {category: job, type: t}`;

// One warning (NW4) in `warned`, nothing else.
const warned = y`
  sequences:
    warned:
      nodes:
        j:
          category: job
          type: t
          sets: [{arg: x, as: a}, {arg: x, as: b}]`;

// A static error (N12) in `broken`.
const broken = y`
  sequences:
    broken:
      nodes:
        j: {category: job}`;

// A graph error only (G-args) in `graph-bad`.
const graphBad = y`
  sequences:
    graph-bad:
      nodes:
        j: {category: job, type: t, args: [{expected: nowhere}]}`;

describe('spinc-lint', () => {
  it('the file starts with a node shebang', async () => {
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(cli, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('valid specs: exit 0, OK', () => {
    const r = run(specsDir({ 'a.yaml': valid }));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('OK, all specs are valid\n');
  });

  it('errors: exit 1, grouped by file then sequence, each item naming file:line, sequence, node', () => {
    const r = run(specsDir({ 'a.yaml': valid, 'b.yaml': broken, 'c/w.yml': warned }));
    expect(r.code).toBe(1);
    const sep = `# ${'-'.repeat(78)}`;
    expect(r.stdout).toBe(
      [
        sep,
        '# File: b.yaml',
        '#  Seq: broken',
        'Errors',
        "   1: b.yaml:4: sequence broken: node j: field 'type' missing: required for nonconditional nodes [N12]",
        '',
        sep,
        '# File: c/w.yml',
        '#  Seq: warned',
        'Warnings',
        `   2: c/w.yml:7: sequence warned: node j: value "x" duplicated in field 'sets.arg': value(s) renamed multiple times using 'as' [NW4]`,
        '',
        sep,
        'FAILED: 1 error, 1 warning in 3 files, 3 sequences',
        '',
      ].join('\n'),
    );
  });

  it('warnings: exit 0; --strict / -s / --strict=true make them fail; --warnings=false hides them', () => {
    const dir = specsDir({ 'w.yaml': warned });
    const plain = run(dir);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('[NW4]');
    expect(plain.stdout).toContain('OK with warnings: 0 errors, 1 warning');
    expect(run(dir, '--strict').code).toBe(1);
    expect(run('-s', dir).code).toBe(1);
    expect(run(dir, '--strict=true').code).toBe(1);
    expect(run(dir, '--strict=false').code).toBe(0);
    const hidden = run(dir, '--warnings=false');
    expect(hidden.code).toBe(0);
    expect(hidden.stdout).not.toContain('NW4');
    expect(hidden.stdout).toContain('Warnings occurred and suppressed');
    expect(run(dir, '--warnings=false', '--strict').code).toBe(1);
  });

  it('--format json', () => {
    const r = run(specsDir({ 'b.yaml': broken, 'w.yaml': warned }), '--format', 'json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report).toMatchObject({ ok: false, errors: 1, warnings: 1 });
    expect(report.diagnostics).toEqual([
      {
        severity: 'error',
        check: 'N12',
        file: 'b.yaml',
        line: 4,
        sequence: 'broken',
        node: 'j',
        message: "node j: field 'type' missing: required for nonconditional nodes",
      },
      {
        severity: 'warning',
        check: 'NW4',
        file: 'w.yaml',
        line: 7,
        sequence: 'warned',
        node: 'j',
        message: `node j: value "x" duplicated in field 'sets.arg': value(s) renamed multiple times using 'as'`,
      },
    ]);
    const okReport = JSON.parse(run(specsDir({ 'a.yaml': valid }), '--format=json').stdout) as JsonReport;
    expect(okReport).toMatchObject({ ok: true, errors: 0, warnings: 0, diagnostics: [] });
  });

  it('--sequences: reports all unknown names', () => {
    const r = run(specsDir({ 'a.yaml': valid }), '--sequences=good,nope,gone');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Args to --sequences not found in specs: nope, gone\n');
  });

  it('--sequences: shows the selected sequences; errors elsewhere still fail the run', () => {
    const dir = specsDir({ 'a.yaml': valid, 'g.yaml': graphBad, 'w.yaml': warned });
    const r = run(dir, '--sequences=good');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('graph-bad');
    expect(r.stdout).toContain('1 error and 1 warning in sequences not selected by --sequences (not shown)');
    const json = JSON.parse(run(dir, '--sequences', 'good,warned', '--format=json').stdout) as JsonReport;
    expect(json).toMatchObject({ ok: false, errors: 1, warnings: 1, hidden: { errors: 1, warnings: 0 } });
    expect(json.diagnostics.map((d) => d.check)).toEqual(['NW4']);
    const selected = run(dir, '--sequences=graph-bad');
    expect(selected.code).toBe(1);
    expect(selected.stdout).toContain('[G-args]');
    // Only a selected, clean sequence and no errors elsewhere: exit 0.
    expect(run(specsDir({ 'a.yaml': valid, 'w.yaml': warned }), '--sequences=good').code).toBe(0);
  });

  it('--color: ANSI colours on request, none by default when stdout is not a terminal', () => {
    const dir = specsDir({ 'b.yaml': broken });
    expect(run(dir).stdout).not.toContain('\u001b[');
    const coloured = run(dir, '--color=true');
    expect(coloured.stdout).toContain('\u001b[31mErrors\u001b[0m');
    expect(run(specsDir({ 'a.yaml': valid }), '--color').stdout).toContain(
      '\u001b[32mOK, all specs are valid',
    );
    expect(run(dir, '--color=false').stdout).not.toContain('\u001b[');
  });

  it('no specs: exit 1 with a message naming the directory', () => {
    const dir = specsDir({ 'notes.txt': 'nothing here' });
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`No specs found in ${dir}\n`);
    const rel = path.relative(repoRoot, dir);
    expect(run(rel).stderr).toBe(`No specs found in ${rel} (${dir})\n`);
  });

  it('an unreadable directory: exit 1', () => {
    const r = run(path.join(tmpRoot, 'does-not-exist'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read specs dir');
  });

  it('parse errors: exit 1 and the file is named', () => {
    const r = run(path.join(fixturesDir, 'fail-parse-specs-dir'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'b.yaml:8: sequence seq-two: sequence seq-two already seen in file a.yaml [parse-duplicate-sequence]',
    );
  });

  it('--version and --help: exit 0', () => {
    expect(run('--version')).toMatchObject({ code: 0, stdout: 'spinc-lint 0.1.0\n' });
    const help = run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: spinc-lint [SPECS_DIR]');
    expect(run('-h').code).toBe(0);
  });

  it('usage errors: exit 2', () => {
    for (const args of [['--bogus'], ['--color=maybe'], ['--format', 'xml'], ['a', 'b'], ['--sequences']]) {
      const r = run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Usage: spinc-lint');
    }
  });

  it.each(['bench/specs', 'specs'])("the repo's specs in %s lint clean", (dir) => {
    const r = run(path.resolve(repoRoot, dir));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('OK, all specs are valid\n');
  });
});
