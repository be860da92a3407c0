/**
 * The services run from `pnpm deploy` directories, without the source tree: deploy the
 * RM and the JR (production dependencies only), then start each from its directory.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const root = mkdtempSync(path.join(tmpdir(), 'spincycle-deploy-'));
const children: ChildProcess[] = [];

/** `pnpm --filter <pkg> deploy --prod --legacy <dir>`, as in the service READMEs. */
function deploy(pkg: string): string {
  const dir = path.join(root, pkg.split('/')[1] as string);
  execFileSync('pnpm', ['--filter', pkg, 'deploy', '--prod', '--legacy', dir], {
    cwd: repoRoot,
    stdio: 'pipe',
  });
  return dir;
}

/** Starts `node <dir>/dist/main.js` from an unrelated directory; resolves the URL it logs as listening. */
function start(dir: string, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [path.join(dir, 'dist/main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      for (const line of out.split('\n')) {
        if (!/listening/i.test(line)) continue;
        const url = (JSON.parse(line) as { url?: string }).url;
        if (url) resolve(url);
      }
    });
    child.stderr?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
}

let rmDir: string;
let jrDir: string;
beforeAll(() => {
  rmDir = deploy('@spincycle/request-manager');
  jrDir = deploy('@spincycle/job-runner');
}, 180_000);

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('services from pnpm deploy directories', () => {
  it('the RM answers --help', () => {
    const r = spawnSync(process.execPath, [path.join(rmDir, 'dist/main.js'), '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toContain('usage: main.js [serve|migrate] [configFile]');
  });

  it('the RM and the JR start and serve, the RM with the spec schema from its spec package', async () => {
    const rmUrl = await start(rmDir, {
      SPINCYCLE_SERVER_ADDR: '127.0.0.1:0',
      SPINCYCLE_SPECS_DIR: path.join(repoRoot, 'specs'),
      SPINCYCLE_DATA_DIR: path.join(root, 'data'),
    });
    const list = (await (await fetch(`${rmUrl}/api/v1/request-list`)).json()) as Array<{ Name: string }>;
    expect(list.map((r) => r.Name)).toContain('test');
    const schema = (await (await fetch(`${rmUrl}/api/v1/spec-schema.json`)).json()) as { title: string };
    expect(schema.title).toBe('Spin Cycle request specs');

    const jrUrl = await start(jrDir, {
      SPINCYCLE_SERVER_ADDR: '127.0.0.1:0',
      SPINCYCLE_RM_CLIENT_URL: rmUrl,
    });
    const version = await fetch(`${jrUrl}/version`);
    expect(version.status).toBe(200);
  });
});
