/**
 * Typed access to a YAML document composed with the failsafe schema: mappings with
 * known keys, lists, strings, YAML 1.1 booleans and unsigned integers. A value of the
 * wrong type is recorded as a `parse-type` error; unknown and duplicate keys as warnings.
 * The spec file parser (parse-yaml.ts) builds on it.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Scalar,
  type Node as YamlNode,
} from 'yaml';
import { diag } from './diagnostics.js';
import type { Diagnostic } from './model.js';

// YAML 1.1 booleans and nulls, as the original's YAML decoder resolved them.
const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL = new Set(['', '~', 'null', 'Null', 'NULL']);

/** Guards against pathological alias nesting; real specs are a few levels deep. */
const MAX_DEPTH = 64;

/** Where a value sits, for messages: the sequence, the node, and a field path. */
export interface Ctx {
  sequence?: string | undefined;
  node?: string | undefined;
}

export interface Entry {
  key: string;
  line: number;
  value: YamlNode | null;
}

export abstract class YamlReader {
  protected readonly lc = new LineCounter();
  protected readonly diagnostics: Diagnostic[] = [];
  protected typeErrors = 0;
  protected doc!: Document.Parsed;

  constructor(protected readonly file: string) {}

  // --- typed access -------------------------------------------------------------------

  /** A mapping with a fixed set of keys; unknown keys are warnings, null is an empty mapping. */
  protected struct(
    n: YamlNode | null,
    ctx: Ctx,
    what: string,
    known: readonly string[],
  ): Map<string, { value: YamlNode | null; line: number }> | undefined {
    const entries = this.map(n, ctx, what);
    if (!entries) return undefined;
    const out = new Map<string, { value: YamlNode | null; line: number }>();
    for (const e of entries) {
      if (!known.includes(e.key)) {
        this.warn(
          'parse-unknown-key',
          ctx,
          e.line,
          `unknown key '${e.key}' in ${what} (ignored; expected one of: ${known.join(', ')})`,
        );
        continue;
      }
      out.set(e.key, { value: e.value, line: e.line });
    }
    return out;
  }

  /**
   * Mapping entries with scalar keys in file order. A duplicate key is a warning and the
   * last value wins (keeping the first position); `<<` merge keys are honoured.
   */
  protected map(n: YamlNode | null, ctx: Ctx, what: string, depth = 0): Entry[] | undefined {
    const v = this.deref(n);
    if (this.isNull(v)) return undefined;
    if (!isMap(v)) {
      this.typeError(ctx, v, `${what} must be a mapping, got ${describe(v)}`);
      return undefined;
    }
    const own = new Map<string, Entry>();
    const merged: Entry[] = [];
    for (const pair of v.items) {
      const keyNode = this.deref(pair.key as YamlNode | null);
      const line = keyNode ? this.line(keyNode) : this.line(v);
      if (!isScalar(keyNode)) {
        this.typeError(ctx, keyNode ?? v, `keys in ${what} must be scalars, got ${describe(keyNode)}`);
        continue;
      }
      const key = scalarText(keyNode);
      const value = (pair.value as YamlNode | null) ?? null;
      if (key === '<<' && keyNode.type === 'PLAIN' && depth < MAX_DEPTH) {
        merged.push(...this.mergeSources(value, ctx, what, depth));
        continue;
      }
      const prev = own.get(key);
      if (prev) {
        this.warn(
          'parse-duplicate-key',
          ctx,
          line,
          `duplicate key '${key}' in ${what} (the last one is used)`,
        );
        prev.value = value;
        continue;
      }
      own.set(key, { key, line, value });
    }
    // Explicit keys override merged ones; merged keys keep their own order after them.
    const out = [...own.values()];
    const seen = new Set(own.keys());
    for (const m of merged) {
      if (seen.has(m.key)) continue;
      seen.add(m.key);
      out.push(m);
    }
    return out;
  }

  protected mergeSources(value: YamlNode | null, ctx: Ctx, what: string, depth: number): Entry[] {
    const v = this.deref(value);
    const sources = isSeq(v) ? v.items.map((i) => i as YamlNode | null) : [value];
    const out: Entry[] = [];
    for (const s of sources) out.push(...(this.map(s, ctx, what, depth + 1) ?? []));
    return out;
  }

  /** A sequence; null is "not set" (undefined), anything else is a type error. */
  protected list(
    n: YamlNode | null,
    ctx: Ctx,
    field: string,
  ): Array<{ value: YamlNode | null; line: number }> | undefined {
    const v = this.deref(n);
    if (this.isNull(v)) return undefined;
    if (!isSeq(v)) {
      this.typeError(ctx, v, `'${field}' must be a list, got ${describe(v)}`);
      return undefined;
    }
    const seqLine = this.line(v);
    return v.items.map((i) => {
      const item = (i as YamlNode | null) ?? null;
      return { value: this.deref(item), line: item ? this.line(item) : seqLine };
    });
  }

  /** A list of strings; null entries become "" (the original decoded them so). */
  protected strList(n: YamlNode | null, ctx: Ctx, field: string): string[] | undefined {
    const items = this.list(n, ctx, field);
    if (!items) return undefined;
    return items.map((i) => this.str(i.value, ctx, field) ?? '');
  }

  /** A string field: the scalar's literal text; null/empty is "not set". */
  protected str(n: YamlNode | null, ctx: Ctx, field: string): string | undefined {
    const v = this.deref(n);
    if (this.isNull(v)) return undefined;
    if (!isScalar(v)) {
      this.typeError(ctx, v, `'${field}' must be a string, got ${describe(v)}`);
      return undefined;
    }
    return scalarText(v);
  }

  protected bool(n: YamlNode | null, ctx: Ctx, field: string): boolean {
    const v = this.deref(n);
    if (this.isNull(v)) return false;
    if (isScalar(v) && v.type === 'PLAIN') {
      const t = scalarText(v);
      if (TRUE.has(t)) return true;
      if (FALSE.has(t)) return false;
    }
    this.typeError(ctx, v, `'${field}' must be a boolean, got ${describe(v)}`);
    return false;
  }

  protected uint(n: YamlNode | null, ctx: Ctx, field: string): number | undefined {
    const v = this.deref(n);
    if (this.isNull(v)) return undefined;
    if (isScalar(v) && v.type === 'PLAIN') {
      const parsed = parseUint(scalarText(v));
      if (parsed !== undefined) return parsed;
    }
    this.typeError(ctx, v, `'${field}' must be an unsigned integer, got ${describe(v)}`);
    return undefined;
  }

  // --- helpers ------------------------------------------------------------------------

  protected deref(n: YamlNode | null | undefined): YamlNode | null {
    let v: unknown = n ?? null;
    for (let i = 0; i < MAX_DEPTH && isAlias(v); i++) v = v.resolve(this.doc) ?? null;
    return (v as YamlNode | null) ?? null;
  }

  protected isNull(n: YamlNode | null): boolean {
    if (n === null) return true;
    return isScalar(n) && n.type === 'PLAIN' && (n.value === null || NULL.has(scalarText(n)));
  }

  protected line(n: YamlNode): number {
    return this.offsetLine(n.range?.[0] ?? 0);
  }

  protected offsetLine(offset: number): number {
    return this.lc.linePos(offset).line;
  }

  protected typeError(ctx: Ctx, n: YamlNode | null, message: string): void {
    this.typeErrors++;
    const line = n ? this.line(n) : 1;
    const where = { file: this.file, line, sequence: ctx.sequence, node: ctx.node };
    this.diagnostics.push(diag('error', 'parse-type', where, `${nodePrefix(ctx)}${message}`));
  }

  protected warn(check: string, ctx: Ctx, line: number, message: string): void {
    const where = { file: this.file, line, sequence: ctx.sequence, node: ctx.node };
    this.diagnostics.push(diag('warning', check, where, `${nodePrefix(ctx)}${message}`));
  }
}

function nodePrefix(ctx: Ctx): string {
  return ctx.node === undefined ? '' : `node ${ctx.node}: `;
}

function scalarText(s: Scalar): string {
  const v = s.value;
  return v === null || v === undefined ? '' : String(v);
}

function describe(n: YamlNode | null): string {
  if (n === null) return 'nothing';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) {
    const t = scalarText(n);
    return `"${t.length > 40 ? `${t.slice(0, 40)}…` : t}"`;
  }
  return 'an unsupported value';
}

export function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).trim();
}

/** YAML integer forms (decimal with `_`, 0x, 0o, 0b), non-negative and exact. */
function parseUint(t: string): number | undefined {
  const s = t.replace(/_/g, '');
  let n: number;
  if (/^\+?[0-9]+$/.test(s)) n = Number(s.replace(/^\+/, ''));
  else if (/^0x[0-9a-fA-F]+$/.test(s)) n = Number.parseInt(s.slice(2), 16);
  else if (/^0o[0-7]+$/.test(s)) n = Number.parseInt(s.slice(2), 8);
  else if (/^0b[01]+$/.test(s)) n = Number.parseInt(s.slice(2), 2);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}
