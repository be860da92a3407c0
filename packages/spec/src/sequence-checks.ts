/**
 * Static checks of a sequence's own fields: its args (S1–S5, S9, S10, and the
 * `pattern:` of an arg), its ACL (S6–S8, `acl-ops`), its nodes being present (S11)
 * and `sets` clashes (SW1). Node-level checks are in static-checks.ts.
 */
import { argPatternProblem, argPatternRegExp } from './arg-pattern.js';
import { diag, duplicateValueMsg, invalidValueMsg, missingValueMsg } from './diagnostics.js';
import type { ArgSpec, Diagnostic, NodeSpec, SequenceSpec } from './model.js';
import { duplicates, fieldLine, sequenceArgNames, unique } from './spec-views.js';

/**
 * Operations an ACL entry can grant a role: starting requests, stopping them,
 * reading them (args, job chain, job logs) and retrying them.
 */
export const ACL_OPS: readonly string[] = ['start', 'stop', 'read', 'retry'];

export function checkSequence(seq: SequenceSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (line: number) => ({ file: seq.file, line, sequence: seq.name });
  const err = (check: string, line: number, msg: string) => out.push(diag('error', check, at(line), msg));

  const unnamed = (args: ArgSpec[], kind: string, check: string) => {
    const a = args.find((x) => !x.name);
    if (a) err(check, a.pos.line, missingValueMsg(undefined, `args.${kind}.name`));
  };
  unnamed(seq.args.required, 'required', 'S1');
  unnamed(seq.args.optional, 'optional', 'S2');
  unnamed(seq.args.static, 'static', 'S3');

  const noDefault = (args: ArgSpec[], kind: string, check: string) => {
    const a = args.find((x) => x.default === undefined);
    if (a)
      err(check, a.pos.line, missingValueMsg(undefined, `args.${kind}.default`, `required for ${kind} args`));
  };
  noDefault(seq.args.optional, 'optional', 'S4');
  noDefault(seq.args.static, 'static', 'S5');

  const adminOps = seq.acl.find((a) => a.admin && a.ops.length > 0);
  if (adminOps)
    err(
      'S6',
      adminOps.pos.line,
      invalidValueMsg(undefined, 'acl.admin', ['true'], 'admin=false; alternatively, remove ops'),
    );

  const noRole = seq.acl.find((a) => a.role === '');
  if (noRole)
    err('S7', noRole.pos.line, missingValueMsg(undefined, 'acl.role', 'roles may not be the empty string'));

  const dupRoles = duplicates(seq.acl.map((a) => a.role));
  if (dupRoles.length > 0) {
    const line = secondLine(seq.acl, (a) => a.role, dupRoles[0] as string);
    err('S8', line, duplicateValueMsg(undefined, 'acl.role', dupRoles));
  }

  const allArgs = [...seq.args.required, ...seq.args.optional, ...seq.args.static].filter((a) => a.name);
  const dupArgs = duplicates(allArgs.map((a) => a.name));
  if (dupArgs.length > 0) {
    const line = secondLine(allArgs, (a) => a.name, dupArgs[0] as string);
    err(
      'S9',
      line,
      duplicateValueMsg(
        undefined,
        'args.*.name',
        dupArgs,
        'sequence args must have unique names within the sequence',
      ),
    );
  }

  const reqDefaults = seq.args.required.filter((a) => a.default !== undefined);
  if (reqDefaults.length > 0) {
    const values = reqDefaults.map((a) => `${a.default} (${a.name})`);
    err(
      'S10',
      (reqDefaults[0] as ArgSpec).pos.line,
      invalidValueMsg(
        undefined,
        'args.required.default',
        values,
        'no default; use an optional arg for a default',
      ),
    );
  }

  if (seq.nodes.size === 0)
    err('S11', seq.pos.line, missingValueMsg(undefined, 'nodes', 'at least one node required'));

  const badOps = seq.acl.filter((a) => a.ops.some((op) => !ACL_OPS.includes(op)));
  if (badOps.length > 0) {
    const values = unique(badOps.flatMap((a) => a.ops.filter((op) => !ACL_OPS.includes(op))));
    err(
      'acl-ops',
      (badOps[0] as (typeof badOps)[0]).pos.line,
      invalidValueMsg(undefined, 'acl.ops', values, 'start, stop, read or retry'),
    );
  }

  out.push(...argPatterns(seq));

  const sw1 = setsClashes(seq);
  if (sw1) out.push(diag('warning', 'SW1', at(sw1.line), sw1.message));
  return out;
}

/** Line of the second item whose key is `value` (the first duplicate). */
function secondLine<T extends { pos: { line: number } }>(
  items: T[],
  key: (t: T) => string,
  value: string,
): number {
  const hits = items.filter((i) => key(i) === value);
  return (hits[1] ?? hits[0])?.pos.line ?? 1;
}

/** SW1: an output name set by two nodes, or set over one of the sequence's own args. */
function setsClashes(seq: SequenceSpec): { line: number; message: string } | undefined {
  const setters = new Map<string, NodeSpec[]>();
  for (const node of seq.nodes.values()) {
    for (const as of unique(node.sets.map((s) => s.as))) {
      const list = setters.get(as) ?? [];
      list.push(node);
      setters.set(as, list);
    }
  }
  const own = new Set(sequenceArgNames(seq));
  const values: string[] = [];
  let line: number | undefined;
  for (const [as, nodes] of setters) {
    if (nodes.length < 2 && !own.has(as)) continue;
    const by = [...(own.has(as) ? ['this sequence'] : []), ...nodes.map((n) => n.name)];
    values.push(`${as} (set by ${by.join(', ')})`);
    line ??= fieldLine((own.has(as) ? nodes[0] : nodes[1]) as NodeSpec, 'sets');
  }
  if (values.length === 0) return undefined;
  return {
    line: line ?? seq.pos.line,
    message: duplicateValueMsg(
      undefined,
      'sets.as',
      values,
      'a job arg should be set by one node only and should not overwrite a sequence arg',
    ),
  };
}
/**
 * `arg-pattern` (error): an arg's `pattern` does not compile. `arg-pattern-default`
 * (warning): an optional or static arg's default does not match its own pattern
 * (defaults are not checked at create; only caller-given values are).
 */
function argPatterns(seq: SequenceSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const kinds = [
    ['required', seq.args.required],
    ['optional', seq.args.optional],
    ['static', seq.args.static],
  ] as const;
  for (const [kind, args] of kinds) {
    for (const a of args) {
      if (a.pattern === undefined) continue;
      const at = { file: seq.file, line: a.pos.line, sequence: seq.name };
      const field = `args.${kind}.pattern`;
      const problem = argPatternProblem(a.pattern);
      if (problem !== undefined) {
        const expected = `a regular expression (arg ${a.name}: ${problem})`;
        out.push(diag('error', 'arg-pattern', at, invalidValueMsg(undefined, field, [a.pattern], expected)));
        continue;
      }
      if (a.default !== undefined && !argPatternRegExp(a.pattern).test(a.default)) {
        const msg = `arg ${a.name}: default "${a.default}" does not match its pattern "${a.pattern}"`;
        out.push(diag('warning', 'arg-pattern-default', at, msg));
      }
    }
  }
  return out;
}
