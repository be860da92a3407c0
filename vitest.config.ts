import { defineConfig } from 'vitest/config';

// One run over every package. Tests import workspace packages through their
// built `dist/` (pnpm test builds first), and their own package's sources directly.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel workers; every file uses its own ports and data.
    pool: 'forks',
    maxWorkers: 2,
  },
});
