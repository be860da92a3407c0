/**
 * The services' READMEs document their config schemas exactly: every schema key is a row
 * of the README's config table, with its environment variable and its default, every row
 * is a schema key, and every `SPINCYCLE_*` variable any Markdown file names is a config
 * variable (or one of the few that scripts and tests read).
 */
import type { ConfigSchema } from '@spincycle/service-kit';
import { describe, expect, it } from 'vitest';
import { JR_CONFIG_SCHEMA } from '../../services/job-runner/src/config.js';
import { RM_CONFIG_SCHEMA } from '../../services/request-manager/src/config.js';
import { markdownFiles, proseLines, readRepoFile } from './markdown.js';

const SERVICES: Array<{ readme: string; schema: ConfigSchema }> = [
  { readme: 'services/request-manager/README.md', schema: RM_CONFIG_SCHEMA },
  { readme: 'services/job-runner/README.md', schema: JR_CONFIG_SCHEMA },
];

/** Variables that are not config keys, and the file that reads each (or why it is named). */
const OTHER_VARIABLES: Record<string, string> = {
  SPINCYCLE_TEST_MYSQL_SERVER: 'test/support/global-setup.ts',
  SPINCYCLE_SOAK_MYSQL: 'scripts/soak.mjs',
  SPINCYCLE_BENCH_MYSQL: 'scripts/bench.mjs',
  SPINCYCLE_BENCH_SPECS: 'scripts/bench.mjs',
  SPINCYCLE_BENCH_DRIVER: 'scripts/bench.mjs',
  SPINCYCLE_BENCH_NODE_ARGS: 'bench/services.mjs',
  SPINCYCLE_RM_URL: 'packages/web/vite.config.ts',
  SPINCYCLE_CHROMIUM: 'test/web/chromium.mjs',
  // The spinc README's CI example: a secret of the user's CI, read by nothing here.
  SPINCYCLE_CI_TOKEN: 'packages/spinc/README.md',
};

interface Row {
  line: number;
  keys: string[];
  envs: string[];
  defaultCell: string;
}

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());

/**
 * Keys of a cell: `a.b.c`, then `d` short for `a.b.d` (`mysql.tls.cert_file`, `key_file`).
 * Env vars likewise: `…_KEY_FILE` replaces as many trailing words of the one before.
 */
function expandKeys(spans: string[]): string[] {
  let prev = '';
  return spans.map((s) => {
    const key = !s.includes('.') && prev.includes('.') ? `${prev.slice(0, prev.lastIndexOf('.'))}.${s}` : s;
    prev = key;
    return key;
  });
}

function expandEnvs(spans: string[]): string[] {
  let prev = '';
  const out: string[] = [];
  for (const s of spans) {
    let name = s;
    if (s.startsWith('…_') && prev) {
      const words = s.slice(2).split('_');
      name = [...prev.split('_').slice(0, -words.length), ...words].join('_');
    }
    if (/^(SPINCYCLE_[A-Z0-9_]+|LOG_LEVEL|LOG_FORMAT)$/.test(name)) {
      out.push(name);
      prev = name;
    }
  }
  return out;
}

/** The rows of the first table under the README's `## Configuration` heading. */
function configTable(readme: string): Row[] {
  const lines = proseLines(readRepoFile(readme));
  const start = lines.findIndex((l) => /^## Configuration\s*$/.test(l));
  expect(start, `${readme} has a "## Configuration" section`).toBeGreaterThanOrEqual(0);
  const first = lines.findIndex((l, i) => i > start && l.startsWith('|'));
  const rows: Row[] = [];
  for (let i = first + 2; i < lines.length && lines[i]?.startsWith('|'); i++) {
    const [keyCell = '', envCell = '', defaultCell = ''] = cells(lines[i] as string);
    rows.push({
      line: i + 1,
      keys: expandKeys(codeSpans(keyCell)),
      envs: expandEnvs(codeSpans(envCell)),
      defaultCell,
    });
  }
  return rows;
}

describe('cell parsing', () => {
  it('expands shortened keys and variables', () => {
    expect(expandKeys(['mysql.tls.cert_file', 'key_file', 'ca_file'])).toEqual([
      'mysql.tls.cert_file',
      'mysql.tls.key_file',
      'mysql.tls.ca_file',
    ]);
    expect(expandEnvs(['SPINCYCLE_SERVER_TLS_CERT_FILE', '…_KEY_FILE'])).toEqual([
      'SPINCYCLE_SERVER_TLS_CERT_FILE',
      'SPINCYCLE_SERVER_TLS_KEY_FILE',
    ]);
    expect(expandEnvs(['SPINCYCLE_AUTH_JWT_ISSUER', '…_AUDIENCE'])).toEqual([
      'SPINCYCLE_AUTH_JWT_ISSUER',
      'SPINCYCLE_AUTH_JWT_AUDIENCE',
    ]);
  });
});

describe.each(SERVICES)('$readme', ({ readme, schema }) => {
  const rows = configTable(readme);
  const documented = rows.flatMap((r) => r.keys);

  it('has a config table row for every schema key, and only for those', () => {
    expect(documented.filter((k) => !(k in schema))).toEqual([]);
    expect(Object.keys(schema).filter((k) => !documented.includes(k))).toEqual([]);
    expect(documented.filter((k, i) => documented.indexOf(k) !== i)).toEqual([]);
  });

  it("names each key's environment variable in its row, and no other", () => {
    const problems: string[] = [];
    for (const row of rows) {
      const expected = row.keys.map((k) => schema[k]?.env).filter((e): e is string => Boolean(e));
      if ([...row.envs].sort().join() !== [...expected].sort().join()) {
        problems.push(
          `${readme}:${row.line}: ${row.keys.join(', ')}: documents [${row.envs}], schema [${expected}]`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it("shows each key's default", () => {
    const problems: string[] = [];
    for (const row of rows) {
      for (const key of row.keys) {
        const d = schema[key]?.default;
        // Empty defaults and lists are described in words ("—", "`[]`", "keep forever").
        if (d === undefined || d === '' || Array.isArray(d) || row.keys.length > 1) continue;
        if (!codeSpans(row.defaultCell).includes(String(d))) {
          problems.push(
            `${readme}:${row.line}: ${key}: default \`${String(d)}\`, documented "${row.defaultCell}"`,
          );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('names only its own config variables', () => {
    const own = new Set(Object.values(schema).map((f) => f.env));
    const named = new Set(readRepoFile(readme).match(/SPINCYCLE_[A-Z0-9_]*[A-Z0-9]/g) ?? []);
    expect([...named].filter((n) => !own.has(n) && !(n in OTHER_VARIABLES))).toEqual([]);
  });
});

describe('SPINCYCLE_* variables in every Markdown file', () => {
  const known = new Set(
    SERVICES.flatMap(({ schema }) => Object.values(schema).map((f) => f.env)).filter((e): e is string =>
      Boolean(e),
    ),
  );

  it('are config variables, or read by the file named for them', () => {
    const problems: string[] = [];
    for (const file of markdownFiles()) {
      for (const m of readRepoFile(file).matchAll(/SPINCYCLE_[A-Z0-9_]*(\*|[A-Z0-9])/g)) {
        const name = m[0];
        // `SPINCYCLE_SERVER_TLS_*`: a family of variables.
        const ok = name.endsWith('*')
          ? [...known].some((k) => k.startsWith(name.slice(0, -1)))
          : known.has(name) || name in OTHER_VARIABLES;
        if (!ok) problems.push(`${file}: ${name}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('that are not config keys are read where the list says', () => {
    for (const [name, file] of Object.entries(OTHER_VARIABLES)) {
      expect(readRepoFile(file), `${file} names ${name}`).toContain(name);
    }
  });
});
