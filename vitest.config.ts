import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// Two projects over every package. Tests import workspace packages through their
// built `dist/` (pnpm test builds first), and their own package's sources directly.
//   unit:        no database, no service process; runs in seconds with nothing else up.
//   integration: real MariaDB (the global setup makes this run's database) and/or real
//                RM/JR processes.
// A test file belongs to integration when it uses MariaDB (directly, through
// inject('mysqlUrl') or a support module that does) or starts RM/JR processes:
// everything under test/ except the file checks of test/deploy, test/docs and test/packaging, and any
// package test that imports a database support module (found by reading the file, so a new
// test lands in the right project without editing this list).
const ALL = [
  'packages/*/test/**/*.test.ts',
  // The example job project (packages/jobs/example), tested as its author would.
  'packages/jobs/example/test/**/*.test.ts',
  'services/*/test/**/*.test.ts',
  'test/**/*.test.ts',
];
const USES_DB = /from '\.\/support\/db(\.js)?'|inject\('mysqlUrl'\)/;

function dbTestsUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist') walk(p);
      } else if (e.name.endsWith('.test.ts') && USES_DB.test(readFileSync(p, 'utf8'))) found.push(p);
    }
  };
  for (const root of readdirSync(dir)) {
    const test = path.join(dir, root, 'test');
    if (existsSync(test)) walk(test);
  }
  return found;
}

const INTEGRATION = [
  'test/!(deploy|docs|packaging|structure)/**/*.test.ts',
  'test/deploy/example-config.test.ts',
  'test/packaging/{pack-install,deploy}.test.ts',
  ...dbTestsUnder('services'),
  ...dbTestsUnder('packages'),
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel workers; every file uses its own ports and data.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ALL, exclude: [...configDefaults.exclude, ...INTEGRATION] },
      },
      {
        extends: true,
        test: { name: 'integration', include: INTEGRATION, globalSetup: ['test/support/global-setup.ts'] },
      },
    ],
  },
});
