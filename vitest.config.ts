import { configDefaults, defineConfig } from 'vitest/config';

// Two projects over every package. Tests import workspace packages through their
// built `dist/` (pnpm test builds first), and their own package's sources directly.
//   unit:        no database, no service process; runs in seconds with nothing else up.
//   integration: real MariaDB (the global setup makes this run's database) and/or real
//                RM/JR processes.
// A test file belongs to integration when it uses MariaDB (directly, through
// inject('mysqlUrl') or a support module that does) or starts RM/JR processes.
const ALL = ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'];
const INTEGRATION = [
  // Cross-service tests: real RM and JR processes on MariaDB. test/deploy and test/packaging
  // hold file checks (unit), the example configs run, and the pack/deploy runs (slow).
  'test/!(deploy|packaging)/**/*.test.ts',
  'test/deploy/example-config.test.ts',
  'test/packaging/{pack-install,deploy}.test.ts',
  // RM tests on both storage drivers (services/request-manager/test/support/db.ts).
  'services/request-manager/test/{api-lifecycle,api-requests,auth-http,auth-read-secrets,batching,create-limits,liveness,log-paging,find-paging,resumer,storage,storage-pieces,retention}.test.ts',
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
