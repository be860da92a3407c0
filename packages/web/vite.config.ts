import { defineConfig } from 'vite';

// Served by the RM under /ui/. JSX through esbuild (no framework plugin needed) into Preact.
export default defineConfig({
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts: the page runs under a CSP without 'unsafe-inline'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `pnpm --filter @spincycle/web dev`: API calls go to a local RM.
    proxy: { '/api': process.env.SPINCYCLE_RM_URL ?? 'http://127.0.0.1:32308' },
  },
});
