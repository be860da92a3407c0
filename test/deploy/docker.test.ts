/** deploy/docker: the Dockerfile's shape, the entrypoint's commands and the image's health check against real apps. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/system.js';
import { REPO_ROOT, read, startServices } from './support.js';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l) as RegExpExecArray;
      return { op: (m[1] as string).toUpperCase(), args: m[2] as string };
    });
}

const dockerfile = instructions(read('deploy/docker/Dockerfile'));
const finalStage = dockerfile.slice(dockerfile.map((i) => i.op).lastIndexOf('FROM'));
const entrypointScript = read('deploy/docker/spincycle');

describe('Dockerfile', () => {
  it('builds in a stage with pnpm 10.34.9 and copies production-only deployments into the final stage', () => {
    expect(dockerfile.filter((i) => i.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    const runs = dockerfile.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs).toContainEqual(expect.stringContaining('npm i -g pnpm@10.34.9'));
    expect(runs).toContainEqual(expect.stringMatching(/pnpm install --frozen-lockfile/));
    expect(runs).toContainEqual(expect.stringMatching(/deploy --prod/));
    expect(finalStage.filter((i) => i.op === 'COPY').map((i) => i.args)).toContainEqual(
      expect.stringMatching(/^--from=build \/out\//),
    );
    // No toolchain or pnpm in the runtime image.
    expect(finalStage.some((i) => i.op === 'RUN' && /pnpm|g\+\+/.test(i.args))).toBe(false);
  });

  it('runs as a non-root user, with tini as PID 1 in front of the entrypoint script', () => {
    const user = finalStage.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    const entrypoint = JSON.parse(finalStage.find((i) => i.op === 'ENTRYPOINT')?.args ?? '[]') as string[];
    expect(entrypoint[0]).toBe('/usr/bin/tini');
    expect(entrypoint.at(-1)).toBe('/usr/local/bin/spincycle');
    expect(finalStage.some((i) => i.op === 'RUN' && /apt-get install .*\btini\b/.test(i.args))).toBe(true);
  });

  it('HEALTHCHECK runs the node health check script the image holds', () => {
    const hc = finalStage.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    expect(hc).toMatch(/CMD \["node", "\/opt\/spincycle\/healthcheck\.mjs"\]/);
    expect(finalStage.map((i) => i.args)).toContainEqual(
      'deploy/docker/healthcheck.mjs /opt/spincycle/healthcheck.mjs',
    );
  });

  it('the entrypoint starts the built programs the deployments hold', () => {
    // case arms: `names) ... exec node "$APP/<program>" <args> ;;`
    const arms = new Map<string, string>();
    for (const m of entrypointScript.matchAll(
      /^\s*([\w| -]+)\)\n?(?:[^\n]*\n)*?\s*exec node "\$APP\/([^"]+)"([^;]*);;/gm,
    ))
      for (const name of (m[1] as string).split('|'))
        arms.set(name.trim(), `${m[2]}${(m[3] as string).trimEnd()}`);
    expect(arms.get('rm')).toBe('rm/dist/main.js serve "$@"');
    expect(arms.get('jr')).toBe('jr/dist/main.js "$@"');
    expect(arms.get('migrate')).toBe('rm/dist/main.js migrate "$@"');
    expect(arms.get('spinc')).toBe('spinc/dist/main.js "$@"');
    for (const dir of ['services/request-manager', 'services/job-runner', 'packages/spinc'])
      expect(existsSync(join(REPO_ROOT, dir, 'dist/main.js'))).toBe(true);
  });

  it('.dockerignore keeps dependencies and build output out of the context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['.git', '**/node_modules', '**/dist']) expect(ignored).toContain(p);
  });
});

describe('healthcheck.mjs', () => {
  let services: Awaited<ReturnType<typeof startServices>>;
  beforeAll(async () => {
    services = await startServices();
  });
  afterAll(async () => {
    await services?.close();
  });

  it('checks the route both services serve for liveness', async () => {
    const { HEALTH_PATH } = await import('../../deploy/docker/healthcheck.mjs');
    expect(await services.status('rm', HEALTH_PATH)).toBe(200);
    expect(await services.status('jr', HEALTH_PATH)).toBe(200);
  });

  it('is healthy for a serving RM and JR, unhealthy when nothing listens', async () => {
    const { healthy } = await import('../../deploy/docker/healthcheck.mjs');
    const addr = (url: string) => url.replace(/^http:\/\//, '');
    expect(await healthy({ SPINCYCLE_SERVER_ADDR: addr(services.url.rm) })).toBe(true);
    expect(await healthy({ SPINCYCLE_SERVER_ADDR: addr(services.url.jr) })).toBe(true);
    expect(await healthy({ SPINCYCLE_SERVER_ADDR: `127.0.0.1:${await freePort()}` })).toBe(false);
  });
});
