#!/usr/bin/env node
// `pnpm bench:ui`: time to first render of a 7,009-job request (1,000 hosts) in the
// dashboard: an RM and a JR on SQLite with the dashboard test's specs, the request run
// to COMPLETE, then Debian's headless Chromium opens /ui/requests/{id} five times.
// Prints the median from navigation to the drawn (folded) graph. A figure, not a test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/web/chromium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(join(root, 'test/package.json'))('playwright-core');

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
const [rmPort, jrPort] = [await freePort(), await freePort()];
const rmUrl = `http://127.0.0.1:${rmPort}`;
const data = mkdtempSync(join(tmpdir(), 'spincycle-bench-ui-'));
const env = { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
const start = (main, extra) =>
  spawn(process.execPath, [join(root, main)], { cwd: root, env: { ...env, ...extra }, stdio: 'inherit' });
const rm = start('services/request-manager/dist/main.js', {
  SPINCYCLE_SERVER_ADDR: `127.0.0.1:${rmPort}`,
  SPINCYCLE_DATA_DIR: data,
  SPINCYCLE_SPECS_DIR: join(root, 'test/web/specs'),
  SPINCYCLE_JR_CLIENT_URL: `http://127.0.0.1:${jrPort}`,
});
const jr = start('services/job-runner/dist/main.js', {
  SPINCYCLE_SERVER_ADDR: `127.0.0.1:${jrPort}`,
  SPINCYCLE_RM_CLIENT_URL: rmUrl,
});

async function until(check, what) {
  for (let i = 0; i < 600; i++) {
    try {
      if (await check()) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let browser;
try {
  await until(async () => (await fetch(`${rmUrl}/health`)).ok, 'the RM');
  await until(async () => (await fetch(`http://127.0.0.1:${jrPort}/health`)).ok, 'the JR');
  const hosts = Array.from({ length: 1000 }, (_, i) => `host-${i}`).join(',');
  const created = await (
    await fetch(`${rmUrl}/api/v1/requests`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'bench-wide', args: { hosts } }),
    })
  ).json();
  await until(
    async () => (await (await fetch(`${rmUrl}/api/v1/requests/${created.id}`)).json()).state === 3,
    'the request to complete',
  );
  browser = await launchChromium(chromium);
  const page = browser.page;
  const times = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    await page.goto(`${rmUrl}/ui/requests/${created.id}`);
    await page.locator('[data-group]').first().waitFor();
    if (i > 0) times.push(performance.now() - t0); // the first load warms the caches
    await page.goto('about:blank');
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  console.log(
    `dashboard, ${created.totalJobs}-job request: first render ${median.toFixed(0)} ms median ` +
      `(${times.map((t) => t.toFixed(0)).join(', ')} ms; navigation to the drawn graph, cached assets)`,
  );
} finally {
  await browser?.close();
  // The JR first, so its last heartbeat still finds the RM.
  jr.kill('SIGTERM');
  await new Promise((r) => (jr.exitCode !== null ? r() : jr.once('exit', r)));
  rm.kill('SIGTERM');
  await new Promise((r) => (rm.exitCode !== null ? r() : rm.once('exit', r)));
  rmSync(data, { recursive: true, force: true });
}
