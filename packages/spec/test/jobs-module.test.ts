/**
 * `spinc-lint --jobs-module`: job node types checked against a real job module file,
 * loaded by the built CLI the way the Job Runner loads `jobs.module`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lintDirWithJobs } from '../src/job-types.js';
import { packageDir, y } from './helpers.js';

const cli = path.join(packageDir, 'dist/cli.js');
const root = mkdtempSync(path.join(tmpdir(), 'spec-jobs-module-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A job with every Job method; what it does does not matter to the check. */
const JOB = `(id) => ({
  id: () => id, create() {}, serialize: () => new Uint8Array(), deserialize() {},
  run: async () => ({ state: 5 }), stop() {}, status: () => '',
})`;

function write(rel: string, text: string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

// A map module (types listed) and a factory without types() (asked per type).
write('jobs/map.mjs', `export default { 'deploy-app': ${JOB}, 'check-app': ${JOB} };\n`);
write(
  'jobs/factory.mjs',
  `const make = ${JOB};
export const factory = {
  make(id) {
    if (id.type !== 'deploy-app') throw Object.assign(new Error('unknown job type: ' + id.type), { name: 'UnknownJobTypeError' });
    return make(id);
  },
};
`,
);
write('jobs/broken.mjs', 'export const notAFactory = 1;\n');

const specs = path.join(root, 'specs');
write(
  'specs/deploy.yaml',
  y`
  sequences:
    deploy:
      request: true
      nodes:
        deploy:
          category: job
          type: deploy-app
        wait:
          category: job
          type: sleep
          args:
            - expected: duration
              given: wait
          deps: [deploy]
        verify:
          category: job
          type: verify-app
          deps: [wait]
      args:
        static:
          - name: wait
            default: 1s
  `,
);

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('spinc-lint --jobs-module', () => {
  it('without the flag, job types are not checked', () => {
    expect(run('specs', '--color=false').code).toBe(0);
  });

  it('reports a job type no module makes, naming file, line, node and the known types', () => {
    const r = run('specs', '--jobs-module=./jobs/map.mjs', '--color=false');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /deploy\.yaml:17: sequence deploy: node verify: job type "verify-app" is not made by the job module or the built-in jobs \(known types: [^)]*\bcheck-app, deploy-app\b[^)]*\bsleep\b[^)]*\) \[job-type\]/,
    );
    // The module's own types and the built-in sleep are known.
    expect(r.stdout).not.toMatch(/"deploy-app"|"sleep"/);
  });

  it('asks a factory without a type list for each type', async () => {
    const result = await lintDirWithJobs(specs, './jobs/factory.mjs', root);
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => [d.check, d.node, d.line])).toEqual([['job-type', 'verify', 17]]);
    expect(result.diagnostics[0]?.message).toContain('the job module does not list its types');
  });

  it('passes when every type is made', () => {
    write('jobs/all.mjs', `export default { 'deploy-app': ${JOB}, 'verify-app': ${JOB} };\n`);
    const r = run('specs', '--jobs-module', 'jobs/all.mjs', '--format=json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ errors: 0 });
  });

  it('a module that cannot be used is exit 1 with the loader message', () => {
    const bad = run('specs', '--jobs-module=./jobs/broken.mjs');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('spinc-lint: jobs.module "./jobs/broken.mjs": exports no job factory');
    const missing = run('specs', '--jobs-module=./jobs/none.mjs');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('file not found');
  });
});
