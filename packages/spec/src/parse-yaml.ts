/**
 * Parses one spec file into sequences (reference §5.1, §5.2).
 *
 * The YAML is composed with the failsafe schema, so every scalar arrives as its literal
 * text (`default: 100` → "100", `yes` → "yes") and this module types it by field, the way
 * the original's struct decoding did. Unknown and duplicate keys are warnings; a value of
 * the wrong type is an error and then the file contributes no sequences.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Scalar,
  type Node as YamlNode,
} from 'yaml';
import { diag } from './diagnostics.js';
import type {
  AclSpec,
  ArgSpec,
  Diagnostic,
  EachSpec,
  NodeArg,
  NodeCategory,
  NodeRaw,
  NodeSet,
  NodeSpec,
  RawNodeArg,
  RawNodeSet,
  SequenceSpec,
} from './model.js';

export interface ParsedFile {
  file: string;
  /** Sequences in file order; empty when the file has errors. */
  sequences: SequenceSpec[];
  diagnostics: Diagnostic[];
}

const SEQUENCE_KEYS = ['request', 'args', 'acl', 'nodes'];
const SEQUENCE_ARGS_KEYS = ['required', 'optional', 'static'];
const ARG_KEYS = ['name', 'desc', 'default'];
const ACL_KEYS = ['role', 'admin', 'ops'];
const NODE_KEYS = [
  'category',
  'type',
  'args',
  'sets',
  'deps',
  'each',
  'parallel',
  'retry',
  'retryWait',
  'if',
  'eq',
];
const NODE_ARG_KEYS = ['expected', 'given'];
const NODE_SET_KEYS = ['arg', 'as'];

// YAML 1.1 booleans and nulls, as the original's YAML decoder resolved them.
const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL = new Set(['', '~', 'null', 'Null', 'NULL']);

/** Guards against pathological alias nesting; real specs are a few levels deep. */
const MAX_DEPTH = 64;

/** Where a value sits, for messages: the sequence, the node, and a field path. */
interface Ctx {
  sequence?: string | undefined;
  node?: string | undefined;
}

interface Entry {
  key: string;
  line: number;
  value: YamlNode | null;
}

const CATEGORIES: readonly string[] = ['job', 'sequence', 'conditional'];

export function parseSpecFile(file: string, text: string): ParsedFile {
  return new FileParser(file, text).parse();
}

class FileParser {
  private readonly lc = new LineCounter();
  private readonly diagnostics: Diagnostic[] = [];
  private typeErrors = 0;
  private doc!: Document.Parsed;

  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  parse(): ParsedFile {
    const docs = parseAllDocuments(this.text, {
      lineCounter: this.lc,
      schema: 'failsafe',
      uniqueKeys: false,
      prettyErrors: false,
    });
    const list = Array.isArray(docs) ? docs : [];
    let syntaxErrors = 0;
    for (const d of list) {
      for (const e of d.errors) {
        syntaxErrors++;
        this.diagnostics.push(
          diag(
            'error',
            'parse-syntax',
            { file: this.file, line: this.offsetLine(e.pos[0]) },
            `YAML syntax error: ${firstLine(e.message)}`,
          ),
        );
      }
      for (const w of d.warnings) {
        // Unknown tags (`!!int 5`) are harmless here: every scalar is typed by its field.
        if (w.code === 'TAG_RESOLVE_FAILED') continue;
        this.diagnostics.push(
          diag(
            'warning',
            'parse-yaml',
            { file: this.file, line: this.offsetLine(w.pos[0]) },
            `YAML warning: ${firstLine(w.message)}`,
          ),
        );
      }
    }
    if (syntaxErrors > 0) return this.result([]);
    const first = list[0];
    if (!first) return this.result([]);
    this.doc = first;
    const extra = list.slice(1).filter((d) => !this.isNull(d.contents as YamlNode | null));
    if (extra.length > 0) {
      const line = extra[0]?.contents ? this.line(extra[0].contents as YamlNode) : 1;
      this.diagnostics.push(
        diag(
          'warning',
          'parse-multiple-documents',
          { file: this.file, line },
          'only the first YAML document of a file is read',
        ),
      );
    }
    const sequences = this.top(first.contents as YamlNode | null);
    return this.result(this.typeErrors > 0 ? [] : sequences);
  }

  private result(sequences: SequenceSpec[]): ParsedFile {
    // Keys are visited level by level; report in line order (sort is stable).
    const diagnostics = [...this.diagnostics].sort((x, y) => x.line - y.line);
    return { file: this.file, sequences, diagnostics };
  }

  // --- document structure -------------------------------------------------------------

  private top(root: YamlNode | null): SequenceSpec[] {
    const fields = this.struct(root, {}, 'the document', ['sequences']);
    if (!fields) return [];
    const seqs = fields.get('sequences');
    if (!seqs) return [];
    const entries = this.map(seqs.value, {}, "'sequences'");
    if (!entries) return [];
    return entries.map((e) => this.sequence(e));
  }

  private sequence(e: Entry): SequenceSpec {
    const ctx: Ctx = { sequence: e.key };
    const seq: SequenceSpec = {
      name: e.key,
      file: this.file,
      request: false,
      args: { required: [], optional: [], static: [] },
      acl: [],
      nodes: new Map(),
      pos: { file: this.file, line: e.line },
    };
    const fields = this.struct(e.value, ctx, 'sequence', SEQUENCE_KEYS);
    if (!fields) return seq;
    const request = fields.get('request');
    if (request) seq.request = this.bool(request.value, ctx, 'request');
    const args = fields.get('args');
    if (args) {
      const argFields = this.struct(args.value, ctx, "'args'", SEQUENCE_ARGS_KEYS);
      if (argFields) {
        for (const kind of ['required', 'optional', 'static'] as const) {
          const list = argFields.get(kind);
          if (!list) continue;
          const items = this.list(list.value, ctx, `args.${kind}`) ?? [];
          seq.args[kind] = items.map((item) => this.arg(item.value, item.line, ctx, kind));
        }
      }
    }
    const acl = fields.get('acl');
    if (acl) {
      const items = this.list(acl.value, ctx, 'acl') ?? [];
      seq.acl = items.map((item) => this.acl(item.value, item.line, ctx));
    }
    const nodes = fields.get('nodes');
    if (nodes) {
      for (const n of this.map(nodes.value, ctx, "'nodes'") ?? []) {
        seq.nodes.set(n.key, this.node(n, e.key));
      }
    }
    return seq;
  }

  private arg(item: YamlNode | null, line: number, ctx: Ctx, kind: string): ArgSpec {
    const arg: ArgSpec = { name: '', desc: '', default: undefined, pos: { file: this.file, line } };
    // A null entry is an arg without a name: S1–S3 report it.
    const fields = this.struct(item, ctx, `'args.${kind}' entry`, ARG_KEYS);
    if (!fields) return arg;
    arg.name = this.str(fields.get('name')?.value ?? null, ctx, `args.${kind}.name`) ?? '';
    arg.desc = this.str(fields.get('desc')?.value ?? null, ctx, `args.${kind}.desc`) ?? '';
    arg.default = this.str(fields.get('default')?.value ?? null, ctx, `args.${kind}.default`);
    return arg;
  }

  private acl(item: YamlNode | null, line: number, ctx: Ctx): AclSpec {
    const acl: AclSpec = { role: '', admin: false, ops: [], pos: { file: this.file, line } };
    const fields = this.struct(item, ctx, "'acl' entry", ACL_KEYS);
    if (!fields) return acl;
    acl.role = this.str(fields.get('role')?.value ?? null, ctx, 'acl.role') ?? '';
    const admin = fields.get('admin');
    if (admin) acl.admin = this.bool(admin.value, ctx, 'acl.admin');
    acl.ops = this.strList(fields.get('ops')?.value ?? null, ctx, 'acl.ops') ?? [];
    return acl;
  }

  private node(e: Entry, sequence: string): NodeSpec {
    const ctx: Ctx = { sequence, node: e.key };
    const raw: NodeRaw = { category: undefined, each: undefined, args: [], sets: [], lines: {} };
    const node: NodeSpec = {
      name: e.key,
      category: 'job',
      type: undefined,
      args: [],
      sets: [],
      deps: [],
      each: [],
      parallel: undefined,
      retry: 0,
      retryWait: '',
      if: undefined,
      eq: {},
      pos: { file: this.file, line: e.line },
      raw,
    };
    const fields = this.struct(e.value, ctx, 'node', NODE_KEYS);
    if (!fields) return node;
    for (const [k, f] of fields) raw.lines[k] = f.line;
    const get = (k: string): YamlNode | null => fields.get(k)?.value ?? null;

    raw.category = this.str(get('category'), ctx, 'category');
    // An invalid or missing category behaves as a non-conditional node in the checks (N12).
    if (raw.category !== undefined && CATEGORIES.includes(raw.category))
      node.category = raw.category as NodeCategory;
    node.type = this.str(get('type'), ctx, 'type');
    node.if = this.str(get('if'), ctx, 'if');

    for (const item of this.list(get('args'), ctx, 'args') ?? []) {
      const r = this.nodeArg(item.value, item.line, ctx);
      raw.args.push(r);
      if ('null' in r || !r.expected) continue;
      const a: NodeArg = { expected: r.expected, given: r.given || r.expected };
      node.args.push(a);
    }
    for (const item of this.list(get('sets'), ctx, 'sets') ?? []) {
      const r = this.nodeSet(item.value, item.line, ctx);
      raw.sets.push(r);
      if ('null' in r || !r.arg) continue;
      const s: NodeSet = { arg: r.arg, as: r.as || r.arg };
      node.sets.push(s);
    }
    node.deps = this.strList(get('deps'), ctx, 'deps') ?? [];
    raw.each = this.strList(get('each'), ctx, 'each');
    node.each = (raw.each ?? []).flatMap((s): EachSpec[] => {
      const parts = s.split(':');
      return parts.length === 2 ? [{ list: parts[0] as string, element: parts[1] as string }] : [];
    });
    node.parallel = this.uint(get('parallel'), ctx, 'parallel');
    node.retry = this.uint(get('retry'), ctx, 'retry') ?? 0;
    node.retryWait = this.str(get('retryWait'), ctx, 'retryWait') ?? '';
    if (node.retry > 0 && node.retryWait === '') node.retryWait = '0s';
    const eq = this.map(get('eq'), ctx, "'eq'") ?? [];
    node.eq = Object.fromEntries(eq.map((x) => [x.key, this.str(x.value, ctx, `eq.${x.key}`) ?? '']));
    return node;
  }

  private nodeArg(item: YamlNode | null, line: number, ctx: Ctx): RawNodeArg | { null: true; line: number } {
    if (this.isNull(item)) return { null: true, line };
    const fields = this.struct(item, ctx, "'args' entry", NODE_ARG_KEYS);
    return {
      expected: this.str(fields?.get('expected')?.value ?? null, ctx, 'args.expected'),
      given: this.str(fields?.get('given')?.value ?? null, ctx, 'args.given'),
      line,
    };
  }

  private nodeSet(item: YamlNode | null, line: number, ctx: Ctx): RawNodeSet | { null: true; line: number } {
    if (this.isNull(item)) return { null: true, line };
    const fields = this.struct(item, ctx, "'sets' entry", NODE_SET_KEYS);
    return {
      arg: this.str(fields?.get('arg')?.value ?? null, ctx, 'sets.arg'),
      as: this.str(fields?.get('as')?.value ?? null, ctx, 'sets.as'),
      line,
    };
  }

  // --- typed access -------------------------------------------------------------------

  /** A mapping with a fixed set of keys; unknown keys are warnings, null is an empty mapping. */
  private struct(
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
  private map(n: YamlNode | null, ctx: Ctx, what: string, depth = 0): Entry[] | undefined {
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

  private mergeSources(value: YamlNode | null, ctx: Ctx, what: string, depth: number): Entry[] {
    const v = this.deref(value);
    const sources = isSeq(v) ? v.items.map((i) => i as YamlNode | null) : [value];
    const out: Entry[] = [];
    for (const s of sources) out.push(...(this.map(s, ctx, what, depth + 1) ?? []));
    return out;
  }

  /** A sequence; null is "not set" (undefined), anything else is a type error. */
  private list(
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
  private strList(n: YamlNode | null, ctx: Ctx, field: string): string[] | undefined {
    const items = this.list(n, ctx, field);
    if (!items) return undefined;
    return items.map((i) => this.str(i.value, ctx, field) ?? '');
  }

  /** A string field: the scalar's literal text; null/empty is "not set". */
  private str(n: YamlNode | null, ctx: Ctx, field: string): string | undefined {
    const v = this.deref(n);
    if (this.isNull(v)) return undefined;
    if (!isScalar(v)) {
      this.typeError(ctx, v, `'${field}' must be a string, got ${describe(v)}`);
      return undefined;
    }
    return scalarText(v);
  }

  private bool(n: YamlNode | null, ctx: Ctx, field: string): boolean {
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

  private uint(n: YamlNode | null, ctx: Ctx, field: string): number | undefined {
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

  private deref(n: YamlNode | null | undefined): YamlNode | null {
    let v: unknown = n ?? null;
    for (let i = 0; i < MAX_DEPTH && isAlias(v); i++) v = v.resolve(this.doc) ?? null;
    return (v as YamlNode | null) ?? null;
  }

  private isNull(n: YamlNode | null): boolean {
    if (n === null) return true;
    return isScalar(n) && n.type === 'PLAIN' && (n.value === null || NULL.has(scalarText(n)));
  }

  private line(n: YamlNode): number {
    return this.offsetLine(n.range?.[0] ?? 0);
  }

  private offsetLine(offset: number): number {
    return this.lc.linePos(offset).line;
  }

  private typeError(ctx: Ctx, n: YamlNode | null, message: string): void {
    this.typeErrors++;
    const line = n ? this.line(n) : 1;
    const where = { file: this.file, line, sequence: ctx.sequence, node: ctx.node };
    this.diagnostics.push(diag('error', 'parse-type', where, `${nodePrefix(ctx)}${message}`));
  }

  private warn(check: string, ctx: Ctx, line: number, message: string): void {
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

function firstLine(s: string): string {
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
