/**
 * The dashboard in headless Chromium against real RM and JR processes (SQLite):
 * start from the form, watch the DAG complete, a failed job's tries, stop with the
 * confirmation, a 7,009-job request, deep links, the dark theme. Screenshots go to
 * test-output/web/.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, type System, startSystem, waitForState } from '../support/system.js';
import { until } from '../support/until.js';
import { type Browser, launch, shot } from './browser.js';

const SPECS = join(REPO_ROOT, 'test/web/specs');
const hosts = (n: number) => Array.from({ length: n }, (_, i) => `host-${i}`).join(',');

let sys: System;
let browser: Browser;
let page: Page;
const ui = (path: string) => `${sys.rm.url}/ui${path}`;

beforeAll(async () => {
  sys = await startSystem({ db: 'sqlite', specsDir: SPECS });
  browser = await launch();
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
});

describe('dashboard', () => {
  it('starts a request from the form, names the missing arg, and shows the DAG reach COMPLETE', async () => {
    await page.goto(ui('/start/web-ok'));
    await page.getByRole('button', { name: 'Start web-ok' }).click();
    // The RM's 400 names the arg: the message sits next to that field.
    const err = page.locator('#arg-hosts-err');
    await err.waitFor();
    expect(await err.textContent()).toContain("'hosts'");
    expect(await page.getByLabel(/hosts/).getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'start-form');

    await page.getByLabel(/hosts/).fill('web1,web2,web3');
    await page.getByLabel(/sleepTime/).fill('300');
    await page.getByRole('button', { name: 'Start web-ok' }).click();
    await page.waitForURL(/\/ui\/requests\/[^/]+$/);
    const id = decodeURIComponent(page.url().split('/').pop() as string);
    await page.locator('h1 .badge', { hasText: 'COMPLETE' }).waitFor({ timeout: 30_000 });
    // Small chain: every job drawn, all complete once the log is read.
    const split = page.locator('.node.job[data-state="complete"]', { hasText: 'list-hosts' });
    await split.waitFor();
    await page.waitForFunction(`document.querySelectorAll('.node.job[data-state="complete"]').length >= 4`);
    expect(await page.locator('.node.job:not([data-state="complete"])').count()).toBe(0);
    expect(await page.locator('.progress-text').first().textContent()).toMatch(/^(\d+)\/\1/);
    await shot(page, 'request');
    expect((await sys.client.getRequest(id)).state).toBe(3);
  });

  it("opens a failed job's tries with exit code, error, stdout and stderr", async () => {
    const created = await sys.client.createRequest('web-fail');
    await waitForState(sys.client, created.id, [4]);
    await page.goto(ui(`/requests/${created.id}`));
    const node = page.locator('.node.job', { hasText: 'check' });
    await node.waitFor();
    await page.waitForFunction(`document.querySelector('.node.job[data-state="fail"]') !== null`);
    await node.focus();
    await page.keyboard.press('Enter');
    const panel = page.locator('.job-panel');
    await panel.waitFor();
    await expect.poll(() => panel.locator('.try').count()).toBe(2);
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain('Try 1');
    expect(text).toContain('Try 2');
    expect(text).toContain('exit 3');
    expect(await panel.locator('[data-stream="stdout"]').first().textContent()).toContain('stdout-marker');
    expect(await panel.locator('[data-stream="stderr"]').first().textContent()).toContain('stderr-marker');
    expect(await panel.locator('.try-error').count()).toBeGreaterThan(0);
    await shot(page, 'failed-job');
  });

  it('stops a running request through the confirmation dialog', async () => {
    const created = await sys.client.createRequest('web-slow');
    await page.goto(ui(`/requests/${created.id}`));
    await page.locator('h1 .badge', { hasText: 'RUNNING' }).waitFor();
    await page.waitForFunction(`document.querySelector('.node.job[data-state="running"]') !== null`);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(created.id);
    await shot(page, 'stop-confirm');
    await dialog.getByRole('button', { name: 'Stop request' }).click();
    await page.locator('h1 .badge', { hasText: 'STOPPED' }).waitFor({ timeout: 30_000 });
    expect((await sys.client.getRequest(created.id)).state).toBe(6);
  });

  it('opens a 7,009-job request as folded groups and expands the list on Enter', async () => {
    const created = await sys.client.createRequest('bench-wide', { hosts: hosts(1000) });
    expect(created.totalJobs).toBe(7009);
    await waitForState(sys.client, created.id, [3]);
    const t0 = Date.now();
    await page.goto(ui(`/requests/${created.id}`));
    const group = page.locator('[data-group]');
    await group.first().waitFor();
    console.log(
      `7,009-job request: first render of the DAG ${Date.now() - t0} ms (navigation to folded graph)`,
    );
    expect(await group.count()).toBe(1);
    expect(await page.locator('.node').count()).toBeLessThan(12);
    await shot(page, 'wide-request');
    // Expanding the list draws one folded node per host, not 7,000 jobs.
    await group.first().focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-group]').count(), { timeout: 30_000 }).toBe(1000);
  });

  it('loads deep links directly and serves the files under a strict CSP', async () => {
    await page.goto(ui('/runners'));
    const row = page.locator('tr[data-live="true"]', { hasText: sys.jr.url });
    await row.waitFor();
    await shot(page, 'runners');
    await page.goto(ui('/'));
    await page.locator('table.requests tbody tr').first().waitFor();
    expect(await page.locator('table.requests tbody tr').count()).toBeGreaterThanOrEqual(4);
    await shot(page, 'requests');
    // Filters live in the URL: a deep link with a state filter.
    await page.goto(ui('/?state=FAIL'));
    await page.locator('table.requests tbody tr').first().waitFor();
    expect(await page.locator('table.requests tbody tr').count()).toBe(1);
    await page.goto(ui('/start/web-fail'));
    await page.getByRole('button', { name: 'Start web-fail' }).waitFor();

    const index = await fetch(ui('/requests/anything'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toContain('<div id="app">');
    const bare = await fetch(`${sys.rm.url}/ui`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/ui/');
    const missingAsset = await fetch(ui('/assets/nope.js'));
    expect(missingAsset.status).toBe(404);
  });

  it('retries a failed request from its page and follows it live over events', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'web-retry-')), 'ready');
    const created = await sys.client.createRequest('web-retry', { marker });
    await waitForState(sys.client, created.id, [4]);
    await page.goto(ui(`/requests/${created.id}`));
    const retry = page.getByRole('button', { name: 'Retry', exact: true });
    await retry.waitFor();
    writeFileSync(marker, 'ok\n');
    await retry.click();
    // The page follows the RM's event stream while the retried request runs, then shows it COMPLETE.
    await page.locator('.live', { hasText: 'live (events)' }).waitFor({ timeout: 30_000 });
    await page
      .locator('h1 .badge', { hasText: 'COMPLETE' })
      .waitFor({ timeout: 30_000 })
      .catch(async (err: Error) => {
        // Say what the page and the RM showed instead, so a failure here can be told apart.
        const badge = await page
          .locator('h1 .badge')
          .textContent({ timeout: 1000 })
          .catch(() => null);
        const mode = await page
          .locator('.live')
          .textContent({ timeout: 1000 })
          .catch(() => null);
        const now = await sys.client.getRequest(created.id).catch(() => undefined);
        throw new Error(
          `${err.message}\npage badge: ${badge}, live: ${mode}; the RM says state ${now?.state} (${now?.finishedJobs}/${now?.totalJobs} jobs)`,
        );
      });
    const logs = await sys.client.getJobLogs(created.id);
    expect(logs.filter((l) => l.name === 'check').map((l) => [l.try, l.state])).toEqual([
      [1, 4],
      [2, 3],
    ]);
  });

  /** Polls the page's theme attribute (waitForFunction evaluates strings, which the dashboard's CSP forbids). */
  const themeIs = (ok: (theme: string | undefined) => boolean) =>
    until('the theme attribute', async () =>
      ok(await page.evaluate<string | undefined>('document.documentElement.dataset.theme')),
    );

  it('toggles the dark theme', async () => {
    await page.goto(ui('/'));
    const bg = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    await themeIs((t) => t !== undefined);
    const before = await bg();
    const wasDark =
      (await page.evaluate<string | undefined>('document.documentElement.dataset.theme')) === 'dark';
    await page.locator('#theme-toggle').click();
    // The theme is applied in an effect after the render: wait for it rather than read at once.
    const want = wasDark ? 'light' : 'dark';
    await themeIs((t) => t === want);
    expect(await page.evaluate<string | undefined>('document.documentElement.dataset.theme')).toBe(want);
    expect(await bg()).not.toBe(before);
    if (!wasDark) await shot(page, 'requests-dark');
  });
});
