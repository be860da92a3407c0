/**
 * Reads a specs directory: every `.yaml` and `.yml` file (any case),
 * recursively, in lexical walk order; the first definition of a sequence name wins.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { diag } from './diagnostics.js';
import type { Diagnostic, SpecSet } from './model.js';
import { type ParsedFile, parseSpecFile } from './parse-yaml.js';

export interface LoadResult {
  specs: SpecSet;
  /** Parse diagnostics (syntax, type, unknown/duplicate keys, duplicate sequences). */
  diagnostics: Diagnostic[];
  /** Spec files read, relative to the dir, in load order. */
  files: string[];
}

const SPEC_FILE = /\.ya?ml$/i;

export function isSpecFile(name: string): boolean {
  return SPEC_FILE.test(name);
}

/** Compares like Go's sort.Strings (UTF-16 code units here; identical for ASCII names). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Spec files under `dir`, relative with `/` separators, in the order of a depth-first walk
 * that visits each directory's entries sorted by name (the original's filepath.Walk order).
 * Symlinks to files are read; symlinked directories are not entered (no loops).
 * Throws when `dir` itself cannot be read.
 */
export async function findSpecFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => byName(a.name, b.name));
    for (const e of entries) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(relPath);
      else if (
        isSpecFile(e.name) &&
        (e.isFile() || (e.isSymbolicLink() && (await isFile(path.join(dir, relPath)))))
      )
        out.push(relPath);
    }
  };
  await walk('');
  return out;
}

export function findSpecFilesSync(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const entries = readdirSync(path.join(dir, rel), { withFileTypes: true });
    entries.sort((a, b) => byName(a.name, b.name));
    for (const e of entries) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(relPath);
      else if (
        isSpecFile(e.name) &&
        (e.isFile() || (e.isSymbolicLink() && isFileSync(path.join(dir, relPath))))
      )
        out.push(relPath);
    }
  };
  walk('');
  return out;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function isFileSync(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Loads and parses every spec file of `dir`. Throws only when `dir` cannot be walked. */
export async function loadSpecs(dir: string): Promise<LoadResult> {
  const files = await findSpecFiles(dir);
  const parsed = await Promise.all(
    files.map(async (f) => {
      try {
        return parseSpecFile(f, await readFile(path.join(dir, f), 'utf8'));
      } catch (err) {
        return unreadable(f, err);
      }
    }),
  );
  return combine(parsed);
}

/** Synchronous `loadSpecs`, for boot code that cannot await. */
export function loadSpecsSync(dir: string): LoadResult {
  const parsed = findSpecFilesSync(dir).map((f) => {
    try {
      return parseSpecFile(f, readFileSync(path.join(dir, f), 'utf8'));
    } catch (err) {
      return unreadable(f, err);
    }
  });
  return combine(parsed);
}

/** Parses in-memory files (name → YAML text), in the given order; for tests and tools. */
export function loadSpecTexts(files: ReadonlyArray<readonly [file: string, text: string]>): LoadResult {
  return combine(files.map(([f, text]) => parseSpecFile(f, text)));
}

function unreadable(file: string, err: unknown): ParsedFile {
  const message = `cannot read file: ${(err as Error).message}`;
  return { file, sequences: [], diagnostics: [diag('error', 'parse-read', { file, line: 1 }, message)] };
}

/** Merges parsed files in order; a sequence name seen in an earlier file is an error here. */
function combine(parsed: readonly ParsedFile[]): LoadResult {
  const specs: SpecSet = { sequences: new Map() };
  const diagnostics: Diagnostic[] = [];
  for (const p of parsed) {
    diagnostics.push(...p.diagnostics);
    for (const seq of p.sequences) {
      const first = specs.sequences.get(seq.name);
      if (first) {
        diagnostics.push(
          diag(
            'error',
            'parse-duplicate-sequence',
            { file: p.file, line: seq.pos.line, sequence: seq.name },
            `sequence ${seq.name} already seen in file ${first.file}`,
          ),
        );
        continue;
      }
      specs.sequences.set(seq.name, seq);
    }
  }
  return { specs, diagnostics, files: parsed.map((p) => p.file) };
}
