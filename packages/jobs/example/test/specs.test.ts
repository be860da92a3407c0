/** The specs against the compiled job module, as `spinc-lint --jobs-module ./dist/index.js specs` checks them. */
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, lintDirWithJobs } from '@spincycle/spec';
import { expect, it } from 'vitest';

const project = fileURLToPath(new URL('..', import.meta.url));

it('every job type of the specs is made by the module, and the specs have no findings', async () => {
  const r = await lintDirWithJobs(`${project}specs`, './dist/index.js', project);
  expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
  expect([...r.specs.sequences.keys()].sort()).toEqual(['check-backup', 'check-file']);
});
