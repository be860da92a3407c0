import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { builtinJobFactory, JobModuleError, NoopJob, SleepJob, UnknownJobTypeError } from '@spincycle/jobs';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJobFactory } from '../src/job-module.js';

let seq = 0;
function jobId(type: string, name = `${type}-job`) {
  seq++;
  return { type, name, id: `id${seq}`, requestId: 'req1' };
}

let dir: string;
const here = dirname(fileURLToPath(import.meta.url));
/** The built package the job modules import (as a user's module would import @spincycle/jobs). */
const jobsIndex = pathToFileURL(resolve(here, '../../jobs/dist/index.js')).href;
/** This package built, for the run under plain node. */
const distIndex = pathToFileURL(resolve(here, '../dist/index.js')).href;

/** A job written the way a user would, without any import. */
const PLAIN_JOB = `
export class EchoJob {
  constructor(id) { this.jid = id; this.args = {}; }
  id() { return this.jid; }
  create(jobArgs) { this.args = { word: String(jobArgs.word ?? 'hi') }; }
  serialize() { return new TextEncoder().encode(JSON.stringify(this.args)); }
  deserialize(bytes) { this.args = bytes.length ? JSON.parse(new TextDecoder().decode(bytes)) : {}; }
  async run(jobData) { jobData.echoed = this.args.word; return { state: 3, exit: 0, stdout: this.args.word }; }
  stop() {}
  status() { return 'echo ' + this.args.word; }
}
`;

async function put(rel: string, text: string): Promise<string> {
  const path = join(dir, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

async function loadError(spec: string): Promise<JobModuleError> {
  try {
    await loadJobFactory(spec, dir);
  } catch (err) {
    expect(err).toBeInstanceOf(JobModuleError);
    expect((err as JobModuleError).moduleSpec).toBe(spec);
    return err as JobModuleError;
  }
  throw new Error(`loading ${spec} did not fail`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-module-'));
  await put(
    'named-map.mjs',
    `${PLAIN_JOB}\nexport const factory = { echo: (id) => new EchoJob(id), noop: EchoJob };\n`,
  );
  await put(
    'default-factory.mjs',
    `${PLAIN_JOB}
export default {
  make(id) {
    if (id.type === 'echo') return new EchoJob(id);
    const e = new Error('unknown job type: ' + id.type); e.name = 'UnknownJobTypeError'; throw e;
  },
  types() { return ['echo']; },
};\n`,
  );
  await put('lib/jobs.mjs', `${PLAIN_JOB}\nexport default { echo: EchoJob };\n`);
  await put(
    'cjs-jobs.cjs',
    `${PLAIN_JOB.replace('export class', 'class')}\nmodule.exports = { factory: { cjs: EchoJob } };\n`,
  );
  // A package that only exports an "import" condition, and one found through "main".
  await put(
    'node_modules/my-jobs/package.json',
    JSON.stringify({
      name: 'my-jobs',
      type: 'module',
      exports: { '.': { import: './src/index.js' }, './extra/*': { node: './src/extra/*.js' } },
    }),
  );
  await put(
    'node_modules/my-jobs/src/index.js',
    `${PLAIN_JOB}\nexport const factory = { 'pkg-echo': EchoJob };\n`,
  );
  await put(
    'node_modules/my-jobs/src/extra/more.js',
    `${PLAIN_JOB}\nexport const factory = { more: EchoJob };\n`,
  );
  await put(
    'node_modules/my-jobs/src/hidden.js',
    `${PLAIN_JOB}\nexport const factory = { hidden: EchoJob };\n`,
  );
  await put(
    'node_modules/@acme/jobs/package.json',
    JSON.stringify({ name: '@acme/jobs', type: 'module', main: 'main.js' }),
  );
  await put(
    'node_modules/@acme/jobs/main.js',
    `${PLAIN_JOB}\nexport const factory = { 'acme-echo': EchoJob };\n`,
  );
  // The README pattern: a job class extending BaseJob from this package.
  await put(
    'base-job.mjs',
    `import { BaseJob, requiredString } from '${jobsIndex}';
class Greet extends BaseJob {
  parseArgs(jobArgs) { return { name: requiredString(jobArgs, 'name') }; }
  async run(jobData) { jobData.greeting = 'hello ' + this.args.name; return this.complete(); }
}
export const factory = { greet: Greet };\n`,
  );
  // Broken modules.
  await put('syntax.mjs', 'export const factory = {;\n');
  await put('throws.mjs', 'throw new Error("boom at load");\n');
  await put('no-factory.mjs', 'export const jobs = {}; export function helper() {}\n');
  await put('bad-type.mjs', 'export const factory = 42;\n');
  await put('bad-maker.mjs', 'export const factory = { ok: () => ({}), broken: "not a function" };\n');
  await put('empty-map.mjs', 'export default {};\n');
  await put('not-a-job.mjs', 'export const factory = { weird: () => ({ run() {} }) };\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadJobFactory', () => {
  it('returns the built-ins when no module is configured', async () => {
    expect(await loadJobFactory(undefined, dir)).toBe(builtinJobFactory);
    expect(await loadJobFactory('  ', dir)).toBe(builtinJobFactory);
  });

  it('loads a named `factory` map from a relative path, composed over the built-ins', async () => {
    const f = await loadJobFactory('./named-map.mjs', dir);
    const id = jobId('echo');
    const rmJob = f.make(id);
    rmJob.create({ word: 'yo' });
    const jrJob = f.make(id);
    jrJob.deserialize(await rmJob.serialize());
    const data: Record<string, unknown> = {};
    expect(await jrJob.run(data)).toMatchObject({ state: State.COMPLETE, stdout: 'yo' });
    expect(data.echoed).toBe('yo');
    // The user's noop wins over the built-in one; built-ins fill in the rest.
    expect(f.make(jobId('noop')).constructor.name).toBe('EchoJob');
    expect(f.make(jobId('sleep'))).toBeInstanceOf(SleepJob);
    expect(() => f.make(jobId('nope'))).toThrow(UnknownJobTypeError);
    expect(f.types?.()).toEqual(['echo', 'noop', 'shell-command', 'sleep', 'split']);
  });

  it('loads a default-exported JobFactory object from an absolute path', async () => {
    const f = await loadJobFactory(join(dir, 'default-factory.mjs'), '/');
    expect(f.make(jobId('echo')).status()).toBe('echo undefined');
    expect(f.make(jobId('noop'))).toBeInstanceOf(NoopJob);
    expect(f.types?.()).toContain('echo');
  });

  it('loads a default-exported map from a relative path without ./, and a file: URL', async () => {
    expect((await loadJobFactory('lib/jobs.mjs', dir)).make(jobId('echo')).constructor.name).toBe('EchoJob');
    const url = pathToFileURL(join(dir, 'lib/jobs.mjs')).href;
    expect((await loadJobFactory(url, '/')).make(jobId('echo')).constructor.name).toBe('EchoJob');
  });

  it('loads a CommonJS module', async () => {
    const f = await loadJobFactory('./cjs-jobs.cjs', dir);
    expect(f.make(jobId('cjs')).constructor.name).toBe('EchoJob');
  });

  it('loads packages from node_modules under baseDir', async () => {
    expect((await loadJobFactory('my-jobs', dir)).make(jobId('pkg-echo')).constructor.name).toBe('EchoJob');
    expect((await loadJobFactory('@acme/jobs', dir)).make(jobId('acme-echo')).constructor.name).toBe(
      'EchoJob',
    );
    // A subpath pattern of "exports"; a file the package does not export is not found.
    expect((await loadJobFactory('my-jobs/extra/more', dir)).make(jobId('more')).constructor.name).toBe(
      'EchoJob',
    );
    expect((await loadError('my-jobs/src/hidden.js')).message).toMatch(/cannot find module or package/);
    // From a subdirectory too: resolution walks up.
    expect((await loadJobFactory('my-jobs', join(dir, 'lib'))).make(jobId('pkg-echo'))).toBeDefined();
  });

  it('works with jobs that extend BaseJob', async () => {
    const f = await loadJobFactory('./base-job.mjs', dir);
    const rmJob = f.make(jobId('greet'));
    rmJob.create({ name: 'ada' });
    const jrJob = f.make(jobId('greet'));
    jrJob.deserialize(await rmJob.serialize());
    const data: Record<string, unknown> = {};
    expect((await jrJob.run(data)).state).toBe(State.COMPLETE);
    expect(data.greeting).toBe('hello ada');
    expect(() => f.make(jobId('greet')).create({})).toThrow('arg name: must be a non-empty string');
  });
});

describe('loadJobFactory errors', () => {
  it('a missing file', async () => {
    const err = await loadError('./missing.mjs');
    expect(err.message).toBe(`jobs.module "./missing.mjs": file not found: ${join(dir, 'missing.mjs')}`);
  });

  it('a missing package', async () => {
    const err = await loadError('no-such-jobs-package');
    expect(err.message).toMatch(
      /^jobs\.module "no-such-jobs-package": cannot find module or package "no-such-jobs-package"/,
    );
  });

  it('a module that does not parse or throws while loading', async () => {
    expect((await loadError('./syntax.mjs')).message).toMatch(/failed to load .*syntax\.mjs: /);
    const err = await loadError('./throws.mjs');
    expect(err.message).toMatch(/failed to load .*throws\.mjs: boom at load$/);
    expect((err.cause as Error).message).toBe('boom at load');
  });

  it('a module without a factory export lists what it has', async () => {
    expect((await loadError('./no-factory.mjs')).message).toBe(
      'jobs.module "./no-factory.mjs": exports no job factory: expected a named export "factory" or a default export; found only "helper", "jobs"',
    );
  });

  it('an export of the wrong kind', async () => {
    expect((await loadError('./bad-type.mjs')).message).toMatch(
      /export "factory" is a number, not a job factory/,
    );
    expect((await loadError('./bad-maker.mjs')).message).toMatch(
      /export "factory" maps job type "broken" to a string, not a function \(id\) => Job/,
    );
    expect((await loadError('./empty-map.mjs')).message).toMatch(/export "default" is an empty map/);
  });

  it('a maker that returns something that is not a job fails at make, naming the type', async () => {
    const f = await loadJobFactory('./not-a-job.mjs', dir);
    expect(() => f.make(jobId('weird'))).toThrow('job of type "weird" has no id() method');
  });
});

describe('loadJobFactory under plain Node (no test-runner module loader)', () => {
  it('loads ES, CommonJS and package modules and reports errors the same way', async () => {
    const script = `
      import { loadJobFactory } from '${distIndex}';
      const dir = ${JSON.stringify(dir)};
      const out = {};
      for (const [spec, type] of [['./named-map.mjs', 'echo'], ['./cjs-jobs.cjs', 'cjs'], ['my-jobs', 'pkg-echo'],
          ['@acme/jobs', 'acme-echo'], ['./base-job.mjs', 'greet'], ['./named-map.mjs', 'sleep']]) {
        const f = await loadJobFactory(spec, dir);
        out[spec + ' ' + type] = f.make({ type, name: 'n', id: 'i', requestId: 'r' }).constructor.name;
      }
      for (const spec of ['./no-factory.mjs', 'no-such-jobs-package', './throws.mjs']) {
        try { await loadJobFactory(spec, dir); out[spec] = 'loaded?'; } catch (e) { out[spec] = e.name + ': ' + e.message; }
      }
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({
      './named-map.mjs echo': 'EchoJob',
      './cjs-jobs.cjs cjs': 'EchoJob',
      'my-jobs pkg-echo': 'EchoJob',
      '@acme/jobs acme-echo': 'EchoJob',
      './base-job.mjs greet': 'Greet',
      './named-map.mjs sleep': 'SleepJob',
      './no-factory.mjs':
        'JobModuleError: jobs.module "./no-factory.mjs": exports no job factory: expected a named export "factory" or a default export; found only "helper", "jobs"',
    });
    expect(out['no-such-jobs-package']).toMatch(
      /^JobModuleError: jobs\.module "no-such-jobs-package": cannot find module or package/,
    );
    expect(out['./throws.mjs']).toMatch(/^JobModuleError: .*failed to load .*throws\.mjs: boom at load$/);
  });
});
