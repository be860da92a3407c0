import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type LintOptions, type LintResult, lintLoaded } from '../src/lint.js';
import { loadSpecTexts } from '../src/load.js';
import type { Diagnostic } from '../src/model.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const fixturesDir = path.join(here, 'fixtures');
export const packageDir = path.resolve(here, '..');
export const repoRoot = path.resolve(packageDir, '../..');

export function fixtureText(name: string): string {
  return readFileSync(path.join(fixturesDir, name), 'utf8');
}

/** Strips the common indentation of a template literal and the first newline. */
export function y(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = String.raw({ raw: strings }, ...values).replace(/^\n/, '');
  const lines = raw.split('\n');
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== '').map((l) => (l.match(/^ */) as RegExpMatchArray)[0].length),
  );
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Lints in-memory files (name → YAML) in the given order. */
export function lintTexts(files: Record<string, string>, opts: LintOptions = {}): LintResult {
  return lintLoaded('(memory)', loadSpecTexts(Object.entries(files)), opts);
}

/** Lints one file called `specs.yaml`. */
export function lintText(text: string, opts: LintOptions = {}): LintResult {
  return lintTexts({ 'specs.yaml': text }, opts);
}

/** 1-based line of the `nth` line containing `needle`. */
export function lineOf(text: string, needle: string, nth = 1): number {
  let seen = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if ((lines[i] as string).includes(needle) && ++seen === nth) return i + 1;
  }
  throw new Error(`"${needle}" (#${nth}) not found in:\n${text}`);
}

export interface Expected {
  severity: Diagnostic['severity'];
  check: string;
  file?: string;
  line: number;
  sequence?: string;
  node?: string;
  /** Substrings (or a pattern) the message must contain. */
  message: string | RegExp | string[];
}

/** Exactly one diagnostic with `check`, matching every expected field. */
export function expectOne(diags: readonly Diagnostic[], e: Expected): Diagnostic {
  const hits = diags.filter((d) => d.check === e.check);
  expect(hits, `diagnostics with check ${e.check} in ${JSON.stringify(diags, null, 1)}`).toHaveLength(1);
  const d = hits[0] as Diagnostic;
  expect(d.severity).toBe(e.severity);
  expect(d.file).toBe(e.file ?? 'specs.yaml');
  expect(d.line).toBe(e.line);
  expect(d.sequence).toBe(e.sequence);
  expect(d.node).toBe(e.node);
  const parts = Array.isArray(e.message) ? e.message : [e.message];
  for (const p of parts) {
    if (typeof p === 'string') expect(d.message).toContain(p);
    else expect(d.message).toMatch(p);
  }
  return d;
}

/** An expected finding whose line is given by text on it: the `nth` (default first) line containing `at`. */
export type ExpectedAt = Omit<Expected, 'line'> & { at: string; nth?: number };

/** Lints `text` (as `specs.yaml`) and expects exactly one finding `e.check`, on the line `e.at` names. */
export function expectFinding(text: string, e: ExpectedAt): Diagnostic {
  const { at, nth = 1, ...rest } = e;
  return expectOne(lintText(text).diagnostics, { ...rest, line: lineOf(text, at, nth) });
}

export function checksOf(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => d.check);
}
