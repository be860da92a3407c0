/**
 * A test cluster on one machine, from the manifests: the migration Job, 2 RMs and 3 JRs of
 * deploy/kubernetes/rendered/production.yaml run as the image would run them (see
 * manifests.ts), behind Service stand-ins, on a fresh MariaDB database. While 200 requests of
 * the manifests' own `test` spec (ConfigMap spincycle-specs) run, every JR is rolled, one RM
 * is rolled and the JRs are scaled 3 → 1 → 4 → 1, each pod ended as the kubelet ends it
 * (preStop sleep, SIGTERM, terminationGracePeriodSeconds, SIGKILL), all at the manifests'
 * real durations. Every request must end COMPLETE with each job's tries 1..n (only the last
 * COMPLETE, the others STOPPED by a hand-off), and a new JR must get chains within one
 * heartbeat (plus a margin, see TAKE_WORK_MARGIN_MS) of being ready.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFinalState, type JobLog, type Request, RmClient, stateName } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { logProblems } from '../ha/support.js';
import { newMysqlDatabase, REPO_ROOT } from '../support/system.js';
import { until } from '../support/until.js';
import { clusterSecrets, TestCluster } from './cluster.js';
import type { Pod } from './kubelet.js';
import { composeService, containerArgv, Manifests, planPod } from './manifests.js';

const REQUESTS = 200;
/** The `test` spec's sleepTime: a noop, then two 3 s sleeps in parallel, so requests overlap the restarts. */
const SLEEP_MS = '3000';
const CLIENTS = 4;
/** Between two submits of one client while the cluster is disturbed (4 clients: 2.5 requests/s). */
const PACE_MS = 1600;
/**
 * How much later than one heartbeat a new JR may get its first chain. The RM places chains on
 * the JRs it knows from heartbeats (read every second), so a JR runs one within about a
 * heartbeat of being ready; the margin covers that read, the 100 ms polling here and a loaded
 * 2-core CI machine running 6 pods and MariaDB. Without heartbeat placement, a new JR behind the
 * one Service URL gets nothing for much longer (the RMs' keep-alive connections stay on old JRs).
 */
const TAKE_WORK_MARGIN_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rel = (p: string) => p.replace(`${REPO_ROOT}/`, '');

describe('the manifests as commands', () => {
  const m = new Manifests();
  const ctx = (dir: string) => ({
    dir,
    port: 40000,
    secrets: clusterSecrets(m, 'mysql://root@127.0.0.1:3306/x').secrets,
    services: { 'spincycle-rm': 'http://127.0.0.1:41000', 'spincycle-jr': 'http://127.0.0.1:42000' },
  });
  const dirs = new Map<string, string>();
  const plan = (kind: 'Deployment' | 'Job', name: string) => {
    dirs.set(name, mkdtempSync(join(tmpdir(), `${name}-`)));
    return planPod(m, m.workload(kind, name), ctx(dirs.get(name) as string));
  };

  it('each workload runs the entrypoint branch of its args, with only ports, Service addresses, mount paths and the pod IP substituted', () => {
    const migrate = plan('Job', 'spincycle-migrate');
    const rm = plan('Deployment', 'spincycle-rm');
    const jr = plan('Deployment', 'spincycle-jr');
    expect(migrate.argv.map(rel)).toEqual(['services/request-manager/dist/main.js', 'migrate']);
    expect(rm.argv.map(rel)).toEqual(['services/request-manager/dist/main.js', 'serve']);
    expect(jr.argv.map(rel)).toEqual(['services/job-runner/dist/main.js']);
    expect(migrate.substitutions).toEqual([]);
    const vol = (name: string, file = '') => `${dirs.get('spincycle-rm')}/volumes/${name}${file}`;
    expect(rm.substitutions).toEqual([
      { what: 'SPINCYCLE_SERVER_ADDR', from: '0.0.0.0:32308', to: '0.0.0.0:40000' },
      { what: 'SPINCYCLE_SPECS_DIR', from: '/etc/spincycle/specs', to: vol('specs') },
      { what: 'SPINCYCLE_JR_CLIENT_URL', from: 'http://spincycle-jr:32307', to: 'http://127.0.0.1:42000' },
      {
        what: 'SPINCYCLE_AUTH_TOKENS_FILE',
        from: '/etc/spincycle/auth/tokens.yaml',
        to: vol('auth', '/tokens.yaml'),
      },
      {
        what: 'SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE',
        from: '/etc/spincycle/auth/internal-token',
        to: vol('auth', '/internal-token'),
      },
    ]);
    expect(jr.substitutions).toEqual([
      { what: 'POD_IP (downward API status.podIP)', from: 'the pod IP', to: '127.0.0.1' },
      { what: 'SPINCYCLE_SERVER_ADDR', from: '0.0.0.0:32307', to: '0.0.0.0:40000' },
      {
        what: 'SPINCYCLE_SERVER_ADVERTISE_URL',
        from: 'http://127.0.0.1:32307',
        to: 'http://127.0.0.1:40000',
      },
      { what: 'SPINCYCLE_RM_CLIENT_URL', from: 'http://spincycle-rm:32308', to: 'http://127.0.0.1:41000' },
      {
        what: 'SPINCYCLE_RM_CLIENT_INTERNAL_TOKEN_FILE',
        from: '/etc/spincycle/auth/internal-token',
        to: `${dirs.get('spincycle-jr')}/volumes/auth/internal-token`,
      },
    ]);
    // The image's ENV comes first; the DSN is the Secret's value as given.
    expect(rm.env.NODE_ENV).toBe('production');
    expect(migrate.env.SPINCYCLE_MYSQL_DSN).toBe('mysql://root@127.0.0.1:3306/x');
    // The grace period covers the preStop sleep plus the JR's hand-off budget.
    expect(jr.preStop).toEqual(['sleep', '5']);
    expect(jr.graceMs).toBe(45_000);
    expect(rm.readiness?.path).toBe('/ready');
    expect(jr.liveness?.path).toBe('/health');
  });

  it('compose runs the same programs as the Kubernetes workloads', () => {
    for (const [svc, kind, name] of [
      ['migrate', 'Job', 'spincycle-migrate'],
      ['rm1', 'Deployment', 'spincycle-rm'],
      ['jr1', 'Deployment', 'spincycle-jr'],
    ] as const) {
      const k8s = containerArgv(m.workload(kind, name).pod.containers[0] ?? { name });
      expect(containerArgv({ args: composeService(svc).command }), svc).toEqual(k8s);
    }
  });
});

interface TriesCheck {
  problems: string[];
  /** Tries beyond the first (each one a job stopped by a hand-off and run again). */
  reruns: number;
}

/** Each job of the chain: tries 1..n without gaps or repeats, the last COMPLETE, the others STOPPED. */
function checkTries(req: Request, jobIds: string[], logs: JobLog[]): TriesCheck {
  const problems: string[] = [];
  let reruns = 0;
  for (const id of jobIds) {
    const mine = logs.filter((l) => l.jobId === id).sort((a, b) => a.try - b.try);
    const tries = mine.map((l) => l.try);
    const want = mine.map((_, i) => i + 1);
    if (tries.join() !== want.join()) problems.push(`${req.id} job ${id}: tries ${tries.join(',')}`);
    const states = mine.map((l) => stateName(l.state));
    if (states.at(-1) !== 'COMPLETE' || states.slice(0, -1).some((s) => s !== 'STOPPED'))
      problems.push(`${req.id} job ${id}: ${states.join(',')}`);
    reruns += Math.max(0, mine.length - 1);
  }
  return { problems, reruns };
}

describe('a test cluster on one machine', () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('2 RMs + 3 JRs from the manifests: 200 requests COMPLETE through JR and RM rolling restarts and JR scaling 1 → 4 → 1', async () => {
    const t0 = Date.now();
    const phases: string[] = [];
    const mark = (what: string) => phases.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
    const c = new TestCluster(clusterSecrets(new Manifests(), await newMysqlDatabase()));
    cluster = c;
    const { migrateExit, migratePod } = await c.start();
    expect(migrateExit, migratePod.log).toBe(0);
    mark(`migration Job exit 0; ${c.rm.pods.length} RMs and ${c.jr.pods.length} JRs ready`);

    const client = new RmClient({
      baseURL: c.rmService.url,
      headers: { Authorization: `Bearer ${c.s.token}` },
      retry: { attempts: 6, baseDelayMs: 200, maxDelayMs: 2000 },
      timeoutMs: 15_000,
    });
    // The clients: submit at a pace while the cluster is disturbed, then at once.
    const ids: string[] = [];
    const submitErrors: string[] = [];
    let next = 0;
    let pace = PACE_MS;
    const submitter = async () => {
      for (let i = next++; i < REQUESTS; i = next++) {
        // The same Idempotency-Key on every attempt: a retry never makes a second request.
        for (let attempt = 1; ; attempt++) {
          try {
            ids.push(
              (
                await client.createRequest(
                  'test',
                  { sleepTime: SLEEP_MS },
                  { idempotencyKey: `cluster-${i}` },
                )
              ).id,
            );
            break;
          } catch (err) {
            submitErrors.push(`request ${i} attempt ${attempt}: ${(err as Error).message}`);
            if (attempt >= 5) throw err;
          }
        }
        await sleep(pace);
      }
    };
    const submitting = Promise.all(Array.from({ length: CLIENTS }, submitter));
    // Awaited below; a failed submit must not be an unhandled rejection meanwhile.
    submitting.catch(() => undefined);
    await until('the first requests to run', () => ids.length >= 8, 30_000);

    mark('rolling restart of every JR');
    await c.jr.rollingReplace();
    mark('rolling restart of one RM');
    await c.rm.rollingReplace([c.rm.pods[0] as Pod]);
    mark('scale JRs to 1');
    await c.jr.scale(1);
    mark('scale JRs to 4');
    const added = await c.jr.scale(4);
    const takeWork = await Promise.all(added.map((p) => msToFirstChain(c, p)));
    mark(`new JRs took chains ${takeWork.join(', ')} ms after ready`);
    mark('scale JRs to 1');
    await c.jr.scale(1);
    pace = 0;
    await submitting;
    mark(`${ids.length} requests submitted`);

    const finals: Request[] = [];
    for (let i = 0; i < ids.length; i += 10)
      finals.push(
        ...(await Promise.all(
          ids.slice(i, i + 10).map((id) =>
            until(
              `request ${id} to be final`,
              async () => {
                const r = await client.getRequest(id);
                return isFinalState(r.state) ? r : undefined;
              },
              { timeoutMs: 120_000, everyMs: 250, retryErrors: true },
            ),
          ),
        )),
      );
    mark('every request final');

    const problems: string[] = [];
    let reruns = 0;
    for (const r of finals) {
      const logs = await client.getJobLogs(r.id);
      const chain = await client.getJobChain(r.id);
      const check = checkTries(r, Object.keys(chain.jobs), logs);
      problems.push(...check.problems, ...(await logProblems(client, r)));
      reruns += check.reruns;
    }
    const heartbeatMs = c.heartbeatMs();
    const pods = [...c.rm.everStarted, ...c.jr.everStarted];
    const terminations = [...c.rm.terminations, ...c.jr.terminations];
    const states = new Map<string, number>();
    for (const r of finals) states.set(stateName(r.state), (states.get(stateName(r.state)) ?? 0) + 1);
    console.log(
      [
        'cluster test summary',
        ...phases.map((p) => `  ${p}`),
        `  requests: ${[...states].map(([s, n]) => `${n} ${s}`).join(', ')}; submit retries: ${submitErrors.length}`,
        `  jobs run again after a hand-off: ${reruns}; job-log problems: ${problems.length}`,
        `  pods started: ${pods.length}; terminations: ${terminations.length}, SIGKILLed: ${terminations.filter((t) => t.killed).length}, slowest ${Math.max(...terminations.map((t) => t.ms))} ms`,
        `  new JRs' first chain after ready (ms): ${takeWork.join(', ')} (bound: heartbeat ${heartbeatMs} + ${TAKE_WORK_MARGIN_MS})`,
        `  connections refused by the Services (no ready pod): RM ${c.rmService.refused}, JR ${c.jrService.refused}`,
      ].join('\n'),
    );

    // What the pods logged about the first request with a job-log problem, to start the search.
    const bad = problems[0]?.split(/[ :]/)[0];
    if (bad)
      console.log(
        `pods' log lines about ${bad}:\n${pods
          .flatMap((p) =>
            p.log
              .split('\n')
              .filter((l) => l.includes(bad))
              .map((l) => `${p.name}: ${l}`),
          )
          .join('\n')}`,
      );
    expect(finals).toHaveLength(REQUESTS);
    expect(Object.fromEntries(states)).toEqual({ COMPLETE: REQUESTS });
    expect(problems).toEqual([]);
    // The hand-offs happened: chains were suspended with jobs running and resumed elsewhere.
    expect(reruns).toBeGreaterThan(0);
    // Every pod stopped by itself within its grace period, with exit code 0.
    expect(terminations.filter((t) => t.killed || t.exitCode !== 0)).toEqual([]);
    expect(pods.filter((p) => p.livenessKills.length > 0).map((p) => p.name)).toEqual([]);
    for (const ms of takeWork) expect(ms).toBeLessThanOrEqual(heartbeatMs + TAKE_WORK_MARGIN_MS);
  }, 240_000);
});

/** From the kubelet seeing `pod` ready to the pod holding a chain (its own running status). */
async function msToFirstChain(c: TestCluster, pod: Pod): Promise<number> {
  const jr = c.jrClient(pod);
  const at = await until(
    `${pod.name} to run a job`,
    async () => ((await jr.running()).length > 0 ? Date.now() : undefined),
    { timeoutMs: 60_000, everyMs: 100, retryErrors: true },
  ).catch(() => Number.POSITIVE_INFINITY);
  return at - (pod.readyAt ?? pod.startedAt);
}
