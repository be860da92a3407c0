import { describe, expect, it } from 'vitest';
import { checksOf, type ExpectedAt, expectFinding, lintText, y } from './helpers.js';

/**
 * One case per check: a spec that trips it (the finding is asserted field by field) and a
 * spec that passes it (the check id must not appear).
 */
interface Case {
  id: string;
  trip: string;
  /** The expected finding; `at` is a substring of the line it must point to (nth occurrence). */
  expect: Omit<ExpectedAt, 'check'>;
  pass: string;
}

const cases: Case[] = [
  // --- sequence errors ---------------------------------------------------------------
  {
    id: 'S1',
    trip: y`
      sequences:
        s:
          args:
            required:
              - desc: no name here
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- desc: no name',
      sequence: 's',
      message: "field 'args.required.name' missing",
    },
    pass: y`
      sequences:
        s:
          args:
            required:
              - name: a
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S2',
    trip: y`
      sequences:
        s:
          args:
            optional:
              - default: x
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- default: x',
      sequence: 's',
      message: "field 'args.optional.name' missing",
    },
    pass: y`
      sequences:
        s:
          args:
            optional:
              - name: o
                default: x
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S3',
    trip: y`
      sequences:
        s:
          args:
            static:
              - default: x
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- default: x',
      sequence: 's',
      message: "field 'args.static.name' missing",
    },
    pass: y`
      sequences:
        s:
          args:
            static:
              - name: st
                default: x
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S4',
    trip: y`
      sequences:
        s:
          args:
            optional:
              - name: o
                desc: no default
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- name: o',
      sequence: 's',
      message: "field 'args.optional.default' missing: required for optional args",
    },
    pass: y`
      sequences:
        s:
          args:
            optional:
              - name: o
                default: ""
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S5',
    trip: y`
      sequences:
        s:
          args:
            static:
              - name: st
                default:
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- name: st',
      sequence: 's',
      message: "field 'args.static.default' missing: required for static args",
    },
    pass: y`
      sequences:
        s:
          args:
            static:
              - name: st
                default: 0
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S6',
    trip: y`
      sequences:
        s:
          acl:
            - role: ops
              admin: true
              ops: [start]
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- role: ops',
      sequence: 's',
      message: `invalid value "true" in field 'acl.admin', expected admin=false; alternatively, remove ops`,
    },
    pass: y`
      sequences:
        s:
          acl:
            - role: ops
              admin: true
            - role: dev
              ops: [start]
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S7',
    trip: y`
      sequences:
        s:
          acl:
            - ops: [start]
          nodes:
            j: {category: job, type: t}`,
    expect: { severity: 'error', at: '- ops: [start]', sequence: 's', message: "field 'acl.role' missing" },
    pass: y`
      sequences:
        s:
          acl:
            - role: r
              ops: [start]
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S8',
    trip: y`
      sequences:
        s:
          acl:
            - role: r
              ops: [start]
            - role: r
              ops: [stop]
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- role: r',
      nth: 2,
      sequence: 's',
      message: `value "r" duplicated in field 'acl.role'`,
    },
    pass: y`
      sequences:
        s:
          acl:
            - role: r
              ops: [start, stop]
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S9',
    trip: y`
      sequences:
        s:
          args:
            required:
              - name: a
            optional:
              - name: a
                default: x
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- name: a',
      nth: 2,
      sequence: 's',
      message: `value "a" duplicated in field 'args.*.name': sequence args must have unique names`,
    },
    pass: y`
      sequences:
        s:
          args:
            required:
              - name: a
            optional:
              - name: b
                default: x
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S10',
    trip: y`
      sequences:
        s:
          args:
            required:
              - name: a
                default: 5
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- name: a',
      sequence: 's',
      message: `invalid value "5 (a)" in field 'args.required.default'`,
    },
    pass: y`
      sequences:
        s:
          args:
            required:
              - name: a
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'S11',
    trip: y`
      sequences:
        s:
          request: true
          nodes: {}`,
    expect: {
      severity: 'error',
      at: '  s:',
      sequence: 's',
      message: "field 'nodes' missing: at least one node required",
    },
    pass: y`
      sequences:
        s:
          nodes:
            j: {category: job, type: t}`,
  },
  // --- sequence warning ----------------------------------------------------------------
  {
    id: 'SW1',
    trip: y`
      sequences:
        s:
          nodes:
            j1:
              category: job
              type: t
              sets: [{arg: x}]
            j2:
              category: job
              type: t
              sets: [{arg: y, as: x}]
              deps: [j1]`,
    expect: {
      severity: 'warning',
      at: 'sets: [{arg: y, as: x}]',
      sequence: 's',
      message: `value "x (set by j1, j2)" duplicated in field 'sets.as'`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            j1:
              category: job
              type: t
              sets: [{arg: x}]
            j2:
              category: job
              type: t
              sets: [{arg: x, as: y}]
              deps: [j1]`,
  },
  // --- our addition: ACL ops ------------------------------------------------------------
  {
    id: 'acl-ops',
    trip: y`
      sequences:
        s:
          acl:
            - role: r
              ops: [start, admin, reboot]
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '- role: r',
      sequence: 's',
      message: `invalid values "admin", "reboot" in field 'acl.ops', expected start, stop, read or retry`,
    },
    pass: y`
      sequences:
        s:
          acl:
            - role: r
              ops: [start, stop, read, retry]
          nodes:
            j: {category: job, type: t}`,
  },
  // --- node errors ---------------------------------------------------------------------
  {
    id: 'N1',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              type: t`,
    expect: {
      severity: 'error',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: "node n: field 'category' missing",
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t`,
  },
  {
    id: 'N2',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: task
              type: t`,
    expect: {
      severity: 'error',
      at: 'category: task',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "task" in field 'category', expected (job | sequence | conditional)`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t`,
  },
  {
    id: 'N3',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: sequence
              type: nowhere`,
    expect: {
      severity: 'error',
      at: 'type: nowhere',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "nowhere" in field 'type', expected a sequence that exists in specs`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: sequence
              type: other
        other:
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'N4',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: l}]
          nodes:
            n:
              category: job
              type: t
              each: ["l:a:b", "l"]`,
    expect: {
      severity: 'error',
      at: 'each: ["l:a:b"',
      sequence: 's',
      node: 'n',
      message: `node n: invalid values "l:a:b", "l" in field 'each', expected value(s) of form 'list:element'`,
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: l}]
          nodes:
            n:
              category: job
              type: t
              each: ["l:a"]`,
  },
  {
    id: 'N5',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: a
                - ~`,
    expect: {
      severity: 'error',
      at: '- ~',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "null" in field 'args'`,
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: a}]
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: a`,
  },
  {
    id: 'N6',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              args:
                - given: a`,
    expect: {
      severity: 'error',
      at: '- given: a',
      sequence: 's',
      node: 'n',
      message: "node n: field 'args.expected' missing",
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: a}]
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: b
                  given: a`,
  },
  {
    id: 'N7',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                -
                - arg: x`,
    expect: {
      severity: 'error',
      at: '-',
      nth: 1,
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "null" in field 'sets'`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - arg: x`,
  },
  {
    id: 'N8',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - as: x`,
    expect: {
      severity: 'error',
      at: '- as: x',
      sequence: 's',
      node: 'n',
      message: "node n: field 'sets.arg' missing",
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - arg: y
                  as: x`,
  },
  {
    id: 'N9',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              each: []
              parallel: 0`,
    expect: {
      severity: 'error',
      at: 'parallel: 0',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "0" in field 'parallel', expected > 0`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              each: []
              parallel: 1`,
  },
  {
    id: 'N10',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: conditional
              eq: {default: noop}`,
    expect: {
      severity: 'error',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: "node n: field 'if' missing: required for conditional nodes",
    },
    pass: y`
      sequences:
        s:
          args:
            static: [{name: x, default: a}]
          nodes:
            n:
              category: conditional
              if: x
              eq: {default: noop}`,
  },
  {
    id: 'N11',
    trip: y`
      sequences:
        s:
          args:
            static: [{name: x, default: a}]
          nodes:
            n:
              category: conditional
              if: x`,
    expect: {
      severity: 'error',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: "node n: field 'eq' missing: required for conditional nodes",
    },
    pass: y`
      sequences:
        s:
          args:
            static: [{name: x, default: a}]
          nodes:
            n:
              category: conditional
              if: x
              eq: {a: noop}`,
  },
  {
    id: 'N12',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job`,
    expect: {
      severity: 'error',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: "node n: field 'type' missing: required for nonconditional nodes",
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t`,
  },
  {
    id: 'N13',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              retry: 2
              retryWait: 5`,
    expect: {
      severity: 'error',
      at: 'retryWait: 5',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "5" in field 'retryWait', expected valid duration string`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              retry: 2
              retryWait: 1m30.5s`,
  },
  {
    id: 'N14',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: a}]
          nodes:
            n:
              category: sequence
              type: sub
              args:
                - expected: a
        sub:
          args:
            required: [{name: a}, {name: b}, {name: c}]
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'error',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message:
        "node n: field 'args' missing: required args to sequence(s) called by node not provided: arg: b, sequence: sub; arg: c, sequence: sub",
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: a}, {name: list}]
          nodes:
            n:
              category: sequence
              type: sub
              each: [list:b]
              args:
                - expected: a
                - expected: c
                  given: a
        sub:
          args:
            required: [{name: a}, {name: b}, {name: c}]
          nodes:
            j: {category: job, type: t}`,
  },
  {
    id: 'N15',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: l1}, {name: l2}]
          nodes:
            n:
              category: job
              type: t
              each: [l1:e, l2:e]`,
    expect: {
      severity: 'error',
      at: 'each: [l1:e',
      sequence: 's',
      node: 'n',
      message: `node n: value "e" duplicated in field 'each'`,
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: l1}, {name: l2}]
          nodes:
            n:
              category: job
              type: t
              each: [l1:e1, l2:e2]`,
  },
  {
    id: 'N16',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: a}, {name: b}]
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: x
                  given: a
                - expected: x
                  given: b`,
    expect: {
      severity: 'error',
      at: 'args:',
      nth: 2,
      sequence: 's',
      node: 'n',
      message: `node n: value "x" duplicated in field 'args.expected'`,
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: a}, {name: b}]
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: x
                  given: a
                - expected: y
                  given: b`,
  },
  {
    id: 'N17',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: l}, {name: a}]
          nodes:
            n:
              category: job
              type: t
              each: [l:a]
              args:
                - expected: a`,
    expect: {
      severity: 'error',
      at: 'each: [l:a]',
      sequence: 's',
      node: 'n',
      message: [`node n: value "a" duplicated in field 'each'`, "should not be repeated in 'args.expected'"],
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: l}, {name: a}]
          nodes:
            n:
              category: job
              type: t
              each: [l:e]
              args:
                - expected: a`,
  },
  {
    id: 'N18',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - arg: x
                  as: y
                - arg: y`,
    expect: {
      severity: 'error',
      at: 'sets:',
      sequence: 's',
      node: 'n',
      message: `node n: value "y" duplicated in field 'sets.as'`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - arg: x
                  as: y
                - arg: z`,
  },
  {
    id: 'N19',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              parallel: 2`,
    expect: {
      severity: 'error',
      at: 'parallel: 2',
      sequence: 's',
      node: 'n',
      message: "node n: field 'each' missing: required when 'parallel' field set",
    },
    // An explicitly empty `each` passes.
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              each: []
              parallel: 2`,
  },
  {
    id: 'N20',
    trip: y`
      sequences:
        s:
          args:
            static: [{name: x, default: a}]
          nodes:
            n:
              category: conditional
              type: t
              if: x
              eq: {a: noop}`,
    expect: {
      severity: 'error',
      at: 'type: t',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "t" in field 'type', expected no value; conditional nodes may not specify a type`,
    },
    pass: y`
      sequences:
        s:
          args:
            static: [{name: x, default: a}]
          nodes:
            n:
              category: conditional
              if: x
              eq: {a: noop}`,
  },
  {
    id: 'N21',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              if: x`,
    expect: {
      severity: 'error',
      at: 'if: x',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "x" in field 'if', expected no value; nonconditional nodes may not specify if`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t`,
  },
  {
    id: 'N22',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: sequence
              type: noop
              eq: {b: y, a: x}`,
    expect: {
      severity: 'error',
      at: 'eq: {b',
      sequence: 's',
      node: 'n',
      message: `node n: invalid value "map[a:x b:y]" in field 'eq', expected no value; nonconditional nodes may not specify eq`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: sequence
              type: noop`,
  },
  {
    id: 'N23',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              retryWait: 1s`,
    expect: {
      severity: 'error',
      at: 'retryWait: 1s',
      sequence: 's',
      node: 'n',
      message: "node n: field 'retry' missing: required when 'retryWait' field set",
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              retry: 1
              retryWait: 1s`,
  },
  // --- our addition: deps naming unknown nodes -----------------------------------------
  {
    id: 'deps-unknown',
    trip: y`
      sequences:
        s:
          nodes:
            a: {category: job, type: t}
            n:
              category: job
              type: t
              deps: [a, ghost]`,
    expect: {
      severity: 'error',
      at: 'deps: [a, ghost]',
      sequence: 's',
      node: 'n',
      message: 'node n: deps names unknown node ghost',
    },
    pass: y`
      sequences:
        s:
          nodes:
            a: {category: job, type: t}
            n:
              category: job
              type: t
              deps: [a]`,
  },
  // --- node warnings -------------------------------------------------------------------
  {
    id: 'NW1',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: l}]
          nodes:
            n:
              category: job
              type: t
              each: [l:a, l:b]`,
    expect: {
      severity: 'warning',
      at: 'each: [l:a, l:b]',
      sequence: 's',
      node: 'n',
      message: [
        `node n: value "l" duplicated in field 'each'`,
        "a given 'list' should appear at most once per node",
      ],
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: l}, {name: m}]
          nodes:
            n:
              category: job
              type: t
              each: [l:a, m:b]`,
  },
  {
    id: 'NW2',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: g}]
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: a
                  given: g
                - expected: b
                  given: g`,
    expect: {
      severity: 'warning',
      at: 'args:',
      nth: 2,
      sequence: 's',
      node: 'n',
      message: `node n: value "g" duplicated in field 'args.given'`,
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: g}]
          nodes:
            n:
              category: job
              type: t
              args:
                - expected: a
                  given: g`,
  },
  {
    id: 'NW3',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: l}]
          nodes:
            n:
              category: job
              type: t
              each: [l:e]
              args:
                - expected: all
                  given: l`,
    expect: {
      severity: 'warning',
      at: 'each: [l:e]',
      sequence: 's',
      node: 'n',
      message: [`node n: value "l" duplicated in field 'each'`, "should not be repeated in 'args.given'"],
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: l}, {name: other}]
          nodes:
            n:
              category: job
              type: t
              each: [l:e]
              args:
                - expected: all
                  given: other`,
  },
  {
    id: 'NW4',
    trip: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - arg: x
                  as: a
                - arg: x
                  as: b`,
    expect: {
      severity: 'warning',
      at: 'sets:',
      sequence: 's',
      node: 'n',
      message: `node n: value "x" duplicated in field 'sets.arg': value(s) renamed multiple times using 'as'`,
    },
    pass: y`
      sequences:
        s:
          nodes:
            n:
              category: job
              type: t
              sets:
                - arg: x
                  as: a`,
  },
  {
    id: 'NW5',
    trip: y`
      sequences:
        s:
          args:
            required: [{name: a}, {name: extra}, {name: l}]
          nodes:
            n:
              category: sequence
              type: sub
              each: [l:el]
              args:
                - expected: a
                - expected: extra
        sub:
          args:
            required: [{name: a}]
            static: [{name: extra, default: x}]
          nodes:
            j: {category: job, type: t}`,
    expect: {
      severity: 'warning',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: `node n: invalid values "extra", "el" in field 'args', 'each.element', expected only args`,
    },
    pass: y`
      sequences:
        s:
          args:
            required: [{name: a}, {name: l}]
          nodes:
            n:
              category: sequence
              type: sub
              each: [l:el]
              args:
                - expected: a
        sub:
          args:
            required: [{name: a}]
            optional: [{name: el, default: x}]
          nodes:
            j: {category: job, type: t}`,
  },
];

describe('static checks: each check trips and passes', () => {
  for (const c of cases) {
    it(`${c.id} trips`, () => {
      expectFinding(c.trip, { ...c.expect, check: c.id });
    });
    it(`${c.id} passes`, () => {
      const r = lintText(c.pass);
      expect(checksOf(r.diagnostics)).not.toContain(c.id);
    });
  }

  it('covers every listed check', () => {
    const ids = new Set(cases.map((c) => c.id));
    const listed = [
      ...Array.from({ length: 11 }, (_, i) => `S${i + 1}`),
      'SW1',
      ...Array.from({ length: 23 }, (_, i) => `N${i + 1}`),
      ...Array.from({ length: 5 }, (_, i) => `NW${i + 1}`),
      'acl-ops',
      'deps-unknown',
    ];
    expect(listed.filter((id) => !ids.has(id))).toEqual([]);
  });
});

/**
 * Sequence `s` with a static arg x (default a) and one node, n: a conditional on x with the
 * branches `eq` (value → sequence); `others` are more sequences, YAML at the level of `s`.
 */
function conditionalOnX(eq: Record<string, string>, others = ''): string {
  const lines = [
    y`
      sequences:
        s:
          args:
            static: [{name: x, default: a}]
          nodes:
            n:
              category: conditional
              if: x
              eq:`,
    ...Object.entries(eq).map(([value, seq]) => `          ${value}: ${seq}`),
  ];
  if (others !== '') lines.push(others.replace(/^(?=.)/gm, '  '));
  return lines.join('\n');
}

describe('static checks: details', () => {
  it('SW1 also warns when a node sets one of the sequence args', () => {
    const text = y`
      sequences:
        s:
          args:
            required: [{name: x}]
          nodes:
            j1:
              category: job
              type: t
              sets: [{arg: x}]`;
    expectFinding(text, {
      severity: 'warning',
      check: 'SW1',
      at: 'sets: [{arg: x}]',
      sequence: 's',
      message: `value "x (set by this sequence, j1)" duplicated in field 'sets.as'`,
    });
  });

  it('N3 lists every missing conditional branch (plural) and accepts the built-in noop', () => {
    const text = conditionalOnX({ a: 'nope-1', b: 'noop', c: 'nope-2' });
    expectFinding(text, {
      severity: 'error',
      check: 'N3',
      at: 'eq:',
      sequence: 's',
      node: 'n',
      message: `node n: invalid values "nope-1", "nope-2" in field 'eq', expected sequences that exist in specs`,
    });
  });

  it('a conditional branch `noop` is the built-in sequence: valid, no args needed', () => {
    const r = lintText(conditionalOnX({ a: 'noop', default: 'noop' }));
    expect(r.diagnostics).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('a user-defined `noop` sequence wins over the built-in one', () => {
    const text = conditionalOnX(
      { a: 'noop' },
      y`
        noop:
          args:
            required: [{name: needed}]
          nodes:
            j: {category: job, type: t, args: [{expected: needed}]}`,
    );
    expectFinding(text, {
      severity: 'error',
      check: 'N14',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: 'arg: needed, sequence: noop',
    });
  });

  it('a job node of type noop is always valid', () => {
    const r = lintText(y`
      sequences:
        s:
          nodes:
            j: {category: job, type: noop}`);
    expect(r.diagnostics).toEqual([]);
  });

  it('N12 also applies to nodes with a missing or invalid category', () => {
    const r = lintText(y`
      sequences:
        s:
          nodes:
            n1: {desc: x}
            n2: {category: weird}`);
    const n12 = r.diagnostics.filter((d) => d.check === 'N12').map((d) => d.node);
    expect(n12).toEqual(['n1', 'n2']);
  });

  it('deps naming a missing node is not reported as a cycle', () => {
    const r = lintText(y`
      sequences:
        s:
          nodes:
            n: {category: job, type: t, deps: [ghost]}`);
    expect(checksOf(r.diagnostics)).toEqual(['deps-unknown']);
  });

  it('N14 lists every called sequence missing an arg (conditional branches)', () => {
    const text = conditionalOnX(
      { a: 'sub1', b: 'sub2' },
      y`
        sub1:
          args: {required: [{name: need}]}
          nodes: {j: {category: job, type: t}}
        sub2:
          args: {required: [{name: need}]}
          nodes: {j: {category: job, type: t}}`,
    );
    expectFinding(text, {
      severity: 'error',
      check: 'N14',
      at: '    n:',
      sequence: 's',
      node: 'n',
      message: 'required arg to sequence(s) called by node not provided: arg: need, sequences: sub1,sub2',
    });
  });

  it('reports static errors and skips the graph checks', () => {
    const r = lintText(y`
      sequences:
        s:
          nodes:
            n: {category: job}
            m: {category: job, type: t, args: [{expected: never-set}]}`);
    expect(checksOf(r.diagnostics)).toEqual(['N12']);
  });
});
