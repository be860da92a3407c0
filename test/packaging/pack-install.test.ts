/**
 * The published packages as a user gets them: `pnpm pack` each one, install the tarballs
 * with npm into a new project outside the workspace, then compile and run a job module
 * against `@spincycle/jobs`, test it with `@spincycle/testing` under node's test runner, and run
 * the `spinc` and `spinc-lint` bins from there.
 * Needs the npm registry (for the packages' own dependencies and typescript).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Published packages: every dependency among workspace packages stays inside this list. */
const PUBLISHED = ['protocol', 'jobs', 'spec', 'spinc', 'chain', 'traversal', 'testing'];
const require = createRequire(import.meta.url);
/** The versions the workspace builds with: the user project gets the same. */
const versionOf = (name: string): string =>
  (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
/** Without the npm_config_* variables pnpm sets for its children (npm warns about pnpm's own keys). */
const env = Object.fromEntries(
  Object.entries({ ...process.env, NO_COLOR: '1' }).filter(
    ([k]) => !k.toLowerCase().startsWith('npm_config_'),
  ),
);

const root = mkdtempSync(path.join(tmpdir(), 'spincycle-pack-'));
const project = path.join(root, 'project');

function write(rel: string, text: string): void {
  const file = path.join(project, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Runs a command in the project; never throws, so failures show their output. */
function run(cmd: string, args: string[]): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd: project, encoding: 'utf8', env });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const JOBS_TS = `import {
  BaseJob,
  type JobArgs,
  type JobData,
  type JobMakers,
  type JobReturn,
  jobFactoryFromMap,
  requiredString,
  State,
} from '@spincycle/jobs';

export class GreetJob extends BaseJob<{ name: string }> {
  protected override parseArgs(jobArgs: JobArgs): { name: string } {
    return { name: requiredString(jobArgs, 'name') };
  }
  override async run(jobData: JobData): Promise<JobReturn> {
    jobData.greeting = \`hello \${this.args.name}\`;
    return this.complete({ stdout: String(jobData.greeting) });
  }
}

export const factory: JobMakers = { greet: GreetJob };

// Both sides of a job's life: create and serialize (RM), deserialize and run (JR).
export async function demo(): Promise<{ state: number; stdout: string | undefined; final: boolean }> {
  const jobs = jobFactoryFromMap(factory);
  const id = { type: 'greet', name: 'g', id: 'j1', requestId: 'r1' };
  const rmSide = jobs.make(id);
  await rmSide.create({ name: 'world' });
  const bytes = await rmSide.serialize();
  const jrSide = jobs.make(id);
  await jrSide.deserialize(bytes);
  const ret = await jrSide.run({});
  return { state: Number(ret.state), stdout: ret.stdout, final: ret.state === State.COMPLETE };
}
`;

const GOOD_SPEC = `sequences:
  hello:
    request: true
    args:
      required:
        - name: name
    nodes:
      greet:
        category: job
        type: greet
        args:
          - expected: name
`;

// A user's unit test of the job module with the testing kit: no database, no servers.
const KIT_TEST_TS = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runJob, runRequest } from '@spincycle/testing';
import { factory } from './jobs.js';

test('runJob: create and serialize, then deserialize and run on a fresh instance', async () => {
  const r = await runJob(factory, { type: 'greet', args: { name: 'kit' } });
  assert.equal(r.stateName, 'COMPLETE');
  assert.equal(r.stdout, 'hello kit');
  assert.deepEqual(r.data, { greeting: 'hello kit' });
});

test('runRequest: the spec built and run in-process', async () => {
  const r = await runRequest('specs/good', 'hello', { name: 'spec' }, factory);
  assert.equal(r.stateName, 'COMPLETE');
  assert.equal(r.job('greet').tries[0]?.stdout, 'hello spec');
});
`;

/** `tsc` in the project, once (the job module is used by two tests). */
let compiled: { code: number; out: string };

const BAD_SPEC = `sequences:
  broken:
    request: true
    nodes:
      j:
        category: job
        retry: twice
`;

beforeAll(() => {
  const tarballs = path.join(root, 'tarballs');
  for (const p of PUBLISHED) {
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], {
      cwd: path.join(repoRoot, 'packages', p),
      stdio: 'pipe',
    });
  }
  write('package.json', JSON.stringify({ name: 'user-project', private: true, type: 'module' }, null, 2));
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        target: 'es2022',
        strict: true,
        outDir: 'dist',
        rootDir: 'src',
        types: ['node'],
        skipLibCheck: false,
      },
      include: ['src'],
    }),
  );
  write('src/jobs.ts', JOBS_TS);
  write('src/kit.test.ts', KIT_TEST_TS);
  write('src/main.ts', "import { demo } from './jobs.js';\nconsole.log(JSON.stringify(await demo()));\n");
  write('specs/good/hello.yaml', GOOD_SPEC);
  write('specs/bad/hello.yaml', GOOD_SPEC);
  write('specs/bad/broken.yaml', BAD_SPEC);
  const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
  const install = run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--no-package-lock',
    ...files,
    `typescript@${versionOf('typescript')}`,
    // The packages' declarations use Node's types (Buffer, node:https), as any Node project does.
    `@types/node@${versionOf('@types/node')}`,
  ]);
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.out}`);
  compiled = run('npx', ['tsc', '-p', '.']);
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('published packages installed with npm outside the workspace', { timeout: 120_000 }, () => {
  it('a job module written against @spincycle/jobs compiles with tsc and runs', () => {
    expect(compiled).toEqual({ code: 0, out: '' });
    const out = run('node', ['dist/main.js']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.out)).toEqual({ state: 3, stdout: 'hello world', final: true });
  });

  it('workspace dependencies became version ranges of published packages', () => {
    const spec = JSON.parse(
      readFileSync(path.join(project, 'node_modules/@spincycle/spec/package.json'), 'utf8'),
    );
    expect(spec.dependencies['@spincycle/jobs']).toMatch(/^\^\d+\.\d+\.\d+/);
    for (const p of PUBLISHED) {
      const pkg = JSON.parse(
        readFileSync(path.join(project, `node_modules/@spincycle/${p}/package.json`), 'utf8'),
      );
      const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => d.startsWith('@spincycle/'));
      expect(deps.every((d) => PUBLISHED.includes(d.slice('@spincycle/'.length)))).toBe(true);
      expect(readdirSync(path.join(project, `node_modules/@spincycle/${p}`))).toContain('LICENSE');
    }
  });

  it('@spincycle/testing runs the job module and its spec under node --test', () => {
    expect(compiled.code).toBe(0);
    const r = run('node', ['--test', 'dist/kit.test.js']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/# pass 2/);
  });

  it('npx spinc --version', () => {
    const r = run('npx', ['spinc', '--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\d+\.\d+\.\d+/);
  });

  it('npx spinc-lint: exit 0 on good specs, non-zero naming file and line on a bad one', () => {
    const good = run('npx', ['spinc-lint', 'specs/good']);
    expect(good.code, good.out).toBe(0);
    const bad = run('npx', ['spinc-lint', 'specs/bad']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/broken\.yaml:7: .*retry/);
  });

  it('npx spinc-lint --jobs-module checks job types against the compiled module', () => {
    expect(compiled.code).toBe(0);
    expect(run('npx', ['spinc-lint', 'specs/good', '--jobs-module=./dist/jobs.js']).code).toBe(0);
    write('specs/typo/hello.yaml', GOOD_SPEC.replace('type: greet', 'type: greeet'));
    const typo = run('npx', ['spinc-lint', 'specs/typo', '--jobs-module=./dist/jobs.js']);
    expect(typo.code).toBe(1);
    expect(typo.out).toMatch(/hello\.yaml:10: .*node greet: job type "greeet" .*known types: greet,/);
  });

  it('the spec JSON Schema resolves as @spincycle/spec/schema.json', () => {
    const file = createRequire(path.join(project, 'x.js')).resolve('@spincycle/spec/schema.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).$schema).toBe(
      'https://json-schema.org/draft/2020-12/schema',
    );
  });
});
