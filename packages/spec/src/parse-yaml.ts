/**
 * Parses one spec file into sequences.
 *
 * The YAML is composed with the failsafe schema, so every scalar arrives as its literal
 * text (`default: 100` → "100", `yes` → "yes") and this module types it by field, the way
 * the original's struct decoding did. Unknown and duplicate keys are warnings; a value of
 * the wrong type is an error and then the file contributes no sequences.
 */
import { parseAllDocuments, type Node as YamlNode } from 'yaml';
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
import { type Ctx, type Entry, firstLine, YamlReader } from './yaml-reader.js';

export interface ParsedFile {
  file: string;
  /** Sequences in file order; empty when the file has errors. */
  sequences: SequenceSpec[];
  diagnostics: Diagnostic[];
}

const SEQUENCE_KEYS = ['request', 'args', 'acl', 'lock', 'lockMode', 'notify', 'nodes', 'timeout'];
const SEQUENCE_ARGS_KEYS = ['required', 'optional', 'static'];
const ARG_KEYS = ['name', 'desc', 'default', 'secret', 'pattern'];
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
  'retryBackoff',
  'retryWaitMax',
  'timeout',
  'if',
  'eq',
];
const NODE_ARG_KEYS = ['expected', 'given'];
const NODE_SET_KEYS = ['arg', 'as'];

const CATEGORIES: readonly string[] = ['job', 'sequence', 'conditional'];

export function parseSpecFile(file: string, text: string): ParsedFile {
  return new FileParser(file, text).parse();
}

class FileParser extends YamlReader {
  constructor(
    file: string,
    private readonly text: string,
  ) {
    super(file);
  }

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
      lock: [],
      notify: [],
      nodes: new Map(),
      pos: { file: this.file, line: e.line },
    };
    const fields = this.struct(e.value, ctx, 'sequence', SEQUENCE_KEYS);
    if (!fields) return seq;
    seq.lines = Object.fromEntries([...fields].map(([k, f]) => [k, f.line]));
    seq.lock = this.strList(fields.get('lock')?.value ?? null, ctx, 'lock') ?? [];
    seq.lockMode = this.str(fields.get('lockMode')?.value ?? null, ctx, 'lockMode');
    seq.notify = this.strList(fields.get('notify')?.value ?? null, ctx, 'notify') ?? [];
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
    const timeout = fields.get('timeout');
    const timeoutText = timeout ? this.str(timeout.value, ctx, 'timeout') : undefined;
    if (timeout && timeoutText !== undefined) {
      seq.timeout = timeoutText;
      seq.timeoutLine = timeout.line;
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
    const arg: ArgSpec = {
      name: '',
      desc: '',
      default: undefined,
      pos: { file: this.file, line },
    };
    // A null entry is an arg without a name: S1–S3 report it.
    const fields = this.struct(item, ctx, `'args.${kind}' entry`, ARG_KEYS);
    if (!fields) return arg;
    arg.name = this.str(fields.get('name')?.value ?? null, ctx, `args.${kind}.name`) ?? '';
    arg.desc = this.str(fields.get('desc')?.value ?? null, ctx, `args.${kind}.desc`) ?? '';
    arg.default = this.str(fields.get('default')?.value ?? null, ctx, `args.${kind}.default`);
    const secret = fields.get('secret');
    if (secret) arg.secret = this.bool(secret.value, ctx, `args.${kind}.secret`);
    const pattern = this.str(fields.get('pattern')?.value ?? null, ctx, `args.${kind}.pattern`);
    if (pattern !== undefined) arg.pattern = pattern;
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
    for (const key of ['retryBackoff', 'retryWaitMax', 'timeout'] as const) {
      const v = this.str(get(key), ctx, key);
      if (v !== undefined) node[key] = v;
    }
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
}
