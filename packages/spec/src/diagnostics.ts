import type { Diagnostic, Severity } from './model.js';

/** Where a finding is: file and line always, sequence and node when they apply. */
export interface Where {
  file: string;
  line: number;
  sequence?: string | undefined;
  node?: string | undefined;
}

export function diag(severity: Severity, check: string, where: Where, message: string): Diagnostic {
  const d: Diagnostic = { severity, check, file: where.file, line: where.line, message };
  if (where.sequence !== undefined) d.sequence = where.sequence;
  if (where.node !== undefined) d.node = where.node;
  return d;
}

// Message building blocks, worded as the original linter's messages. Node findings get a
// `node N: ` prefix; the sequence is carried by the diagnostic itself.

function prefix(node: string | undefined): string {
  return node === undefined ? '' : `node ${node}: `;
}

function quoted(values: readonly string[]): string {
  return values.map((v) => `"${v}"`).join(', ');
}

export function invalidValueMsg(
  node: string | undefined,
  field: string,
  values: readonly string[],
  expected: string,
): string {
  const s = values.length > 1 ? 's' : '';
  return `${prefix(node)}invalid value${s} ${quoted(values)} in field '${field}', expected ${expected}`;
}

export function missingValueMsg(node: string | undefined, field: string, explanation = ''): string {
  return `${prefix(node)}field '${field}' missing${explanation ? `: ${explanation}` : ''}`;
}

export function duplicateValueMsg(
  node: string | undefined,
  field: string,
  values: readonly string[],
  explanation = '',
): string {
  const s = values.length > 1 ? 's' : '';
  return `${prefix(node)}value${s} ${quoted(values)} duplicated in field '${field}'${explanation ? `: ${explanation}` : ''}`;
}

/** `s` when there is more than one. */
export function plural(n: number, s = 's', one = ''): string {
  return n === 1 ? one : s;
}

export function countErrors(diags: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diags) {
    if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}
