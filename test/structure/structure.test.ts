/**
 * Code-structure rules kept by test: no source file over 450 lines (one job
 * per module), and the two services share no code by copy (six identical lines
 * in both belong in @spincycle/service-kit or another shared package).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/system.js';

const MAX_LINES = 450;
const WINDOW = 6;

/** The .ts/.tsx files under `dir` (database migrations aside: each is a frozen schema step). */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'migrations' && e.name !== 'node_modules') out.push(...sources(p));
    } else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `src` of every package and service. */
function srcDirs(): string[] {
  return ['packages', 'services'].flatMap((group) =>
    readdirSync(join(REPO_ROOT, group), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(REPO_ROOT, group, e.name, 'src'))
      .filter((d) => {
        try {
          return readdirSync(d).length > 0;
        } catch {
          return false;
        }
      }),
  );
}

const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** The lines of a file that are code: trimmed, without blank lines, comments and import statements. */
function codeLines(file: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let inImport = false;
  for (const [i, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const text = raw.trim();
    if (text.startsWith('import ')) inImport = true;
    if (inImport) {
      // A name list shared with another file's imports is not copied code.
      if (text.endsWith(';')) inImport = false;
      continue;
    }
    if (text !== '' && !/^(\/\/|\/\*\*?|\*)/.test(text)) out.push({ text, line: i + 1 });
  }
  return out;
}

/**
 * Runs of WINDOW consecutive code lines of a file, keyed by their text, with
 * the line each starts at. Runs of mostly punctuation (closing brackets) say
 * nothing and are skipped.
 */
function windows(file: string): Map<string, number> {
  const lines = codeLines(file);
  const out = new Map<string, number>();
  for (let i = 0; i + WINDOW <= lines.length; i++) {
    const run = lines.slice(i, i + WINDOW);
    if (run.filter((l) => /[A-Za-z0-9]/.test(l.text)).length < WINDOW / 2) continue;
    const key = run.map((l) => l.text).join('\n');
    if (!out.has(key)) out.set(key, run[0]?.line ?? 0);
  }
  return out;
}

describe('code structure', () => {
  it(`no source file of a package or service is over ${MAX_LINES} lines`, () => {
    const files = srcDirs().flatMap(sources);
    expect(files.length).toBeGreaterThan(100);
    const over = files
      .map((f) => ({ file: relative(REPO_ROOT, f), lines: lineCount(readFileSync(f, 'utf8')) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(over, 'split these by responsibility').toEqual([]);
  });

  it(`the Request Manager and the Job Runner share no run of ${WINDOW} identical lines`, () => {
    const rm = sources(join(REPO_ROOT, 'services/request-manager/src'));
    const jr = sources(join(REPO_ROOT, 'services/job-runner/src'));
    expect(rm.length).toBeGreaterThan(10);
    expect(jr.length).toBeGreaterThan(10);
    const inRm = new Map<string, string>();
    for (const f of rm)
      for (const [key, line] of windows(f))
        if (!inRm.has(key)) inRm.set(key, `${relative(REPO_ROOT, f)}:${line}`);
    const shared: string[] = [];
    for (const f of jr)
      for (const [key, line] of windows(f)) {
        const at = inRm.get(key);
        if (at) shared.push(`${relative(REPO_ROOT, f)}:${line} = ${at}`);
      }
    expect(shared, 'move the shared code to @spincycle/service-kit').toEqual([]);
  });
});
