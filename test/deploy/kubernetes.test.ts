/**
 * deploy/kubernetes: the checked-in rendering is current; every manifest validates against
 * the Kubernetes API schemas (kubernetes-models); the manifests agree with the code: env
 * names the services read, their ports, probe paths they serve, the JR's grace period.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER, PRODUCTION, RENDERED, render, renderText } from '../../deploy/kubernetes/render.mjs';
import {
  DEPLOY,
  defaultPort,
  envNames,
  jrShutdownGraceMs,
  portOf,
  type Role,
  readYaml,
  SCHEMAS,
  startServices,
} from './support.js';

interface Container {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  readinessProbe?: { httpGet: { path: string; port: string | number } };
  livenessProbe?: { httpGet: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
}
type Obj = ReturnType<typeof render>[number] & { spec?: Record<string, unknown> };

const objects = render(PRODUCTION) as Obj[];
const base = render(join(DEPLOY, 'kubernetes/base')) as Obj[];
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};
const podSpec = (o: Obj) =>
  ((o.spec as { template?: { spec: PodSpec } } | undefined)?.template?.spec ??
    ({ containers: [] } as unknown as PodSpec)) as PodSpec;
const roleOf = (c: Container): Role | undefined =>
  c.args?.[0] === 'jr' ? 'jr' : c.args?.[0] === 'rm' || c.args?.[0] === 'migrate' ? 'rm' : undefined;
const envValue = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;

/** The kubernetes-models class of an object (`kubernetes-models/<group>/<version>/<Kind>`). */
async function modelOf(o: Obj): Promise<new (data: unknown) => { validate(): void }> {
  const mod = (await import(/* @vite-ignore */ `kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<
    string,
    unknown
  >;
  return mod[o.kind] as new (
    data: unknown,
  ) => { validate(): void };
}

describe('deploy/kubernetes', () => {
  it('rendered/production.yaml is what render.mjs makes of overlays/production', () => {
    expect(readFileSync(RENDERED, 'utf8'), 'run: node deploy/kubernetes/render.mjs').toBe(
      HEADER + renderText(PRODUCTION),
    );
  });

  it('every object of the base and the production overlay validates against the Kubernetes API schemas', async () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const o of [...base, ...objects]) {
      const Model = await modelOf(o);
      expect(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
  });

  it('has what the operators asked for: 2 RMs, a migration Job, JR HPA on running jobs with CPU fallback, PDBs, a NetworkPolicy, Secrets and the specs ConfigMap', () => {
    expect(find('Deployment', 'spincycle-rm').spec?.replicas).toBe(2);
    expect(podSpec(find('Job', 'spincycle-migrate')).containers[0]?.args).toEqual(['migrate']);
    expect((find('Service', 'spincycle-jr').spec as { clusterIP: string }).clusterIP).toBe('None');
    const hpa = find('HorizontalPodAutoscaler', 'spincycle-jr').spec as {
      metrics: {
        type: string;
        pods?: { metric: { name: string }; target: { type: string } };
        resource?: { name: string };
      }[];
    };
    expect(hpa.metrics[0]?.pods?.metric.name).toBe('spincycle_jr_running_jobs');
    expect(hpa.metrics[0]?.pods?.target.type).toBe('AverageValue');
    expect(hpa.metrics[1]?.resource?.name).toBe('cpu');
    const metrics = (
      JSON.parse(readFileSync(join(DEPLOY, 'monitoring/metrics.json'), 'utf8')) as {
        metrics: { name: string }[];
      }
    ).metrics.map((m) => m.name);
    expect(metrics).toContain('spincycle_jr_running_jobs');
    for (const name of ['spincycle-rm', 'spincycle-jr'])
      expect((find('PodDisruptionBudget', name).spec as { maxUnavailable: number }).maxUnavailable).toBe(1);
    for (const name of ['spincycle-db', 'spincycle-auth', 'spincycle-tls'])
      expect(find('Secret', name)).toBeDefined();
    const specs = find('ConfigMap', 'spincycle-specs') as Obj & { data: Record<string, string> };
    expect(specs.data['test.yaml']).toBe(readFileSync(join(DEPLOY, '../specs/test.yaml'), 'utf8'));
  });

  it('env names are ones the services read; ports are the ones they listen on', () => {
    for (const o of objects)
      for (const c of podSpec(o).containers) {
        const role = roleOf(c);
        if (!role) continue;
        const known = envNames(SCHEMAS[role]);
        for (const e of c.env ?? [])
          if (e.name.startsWith('SPINCYCLE_'))
            expect(known.has(e.name), `${o.metadata.name}: ${e.name}`).toBe(true);
        if (c.args?.[0] === 'migrate') continue;
        const port = portOf(envValue(c, 'SPINCYCLE_SERVER_ADDR') ?? '');
        expect(port).toBe(defaultPort(role));
        expect(c.ports?.map((p) => p.containerPort)).toEqual([port]);
      }
  });

  it('each JR advertises its pod IP, leaves the endpoints first and gets longer than its hand-off grace', () => {
    const spec = podSpec(find('Deployment', 'spincycle-jr'));
    const c = spec.containers[0] as Container;
    expect(c.env?.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.podIP');
    expect(envValue(c, 'SPINCYCLE_SERVER_ADVERTISE_URL')).toBe(`http://$(POD_IP):${defaultPort('jr')}`);
    const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    const graceMs = jrShutdownGraceMs({ SPINCYCLE_SHUTDOWN_GRACE: envValue(c, 'SPINCYCLE_SHUTDOWN_GRACE') });
    expect((spec.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(preStopMs + graceMs);
  });

  it('only RM pods may reach the JR port', () => {
    const np = find('NetworkPolicy', 'spincycle-jr-from-rm').spec as {
      podSelector: { matchLabels: Record<string, string> };
      ingress: {
        from: { podSelector: { matchLabels: Record<string, string> } }[];
        ports: { port: number }[];
      }[];
    };
    expect(np.podSelector.matchLabels['app.kubernetes.io/component']).toBe('job-runner');
    expect(np.ingress).toHaveLength(1);
    expect(np.ingress[0]?.from.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component'])).toEqual([
      'request-manager',
    ]);
    expect(np.ingress[0]?.ports.map((p) => p.port)).toEqual([defaultPort('jr')]);
  });

  describe('probes hit routes the services serve', () => {
    let services: Awaited<ReturnType<typeof startServices>>;
    beforeAll(async () => {
      services = await startServices();
    });
    afterAll(async () => {
      await services?.close();
    });
    it('readiness on /ready, liveness on /health, both 200 on a serving RM and JR', async () => {
      for (const name of ['spincycle-rm', 'spincycle-jr']) {
        const c = podSpec(find('Deployment', name)).containers[0] as Container;
        const role = roleOf(c) as Role;
        expect(c.readinessProbe?.httpGet.path).toBe('/ready');
        expect(c.livenessProbe?.httpGet.path).toBe('/health');
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect(c.ports?.some((p) => p.name === probe?.httpGet.port)).toBe(true);
          expect(await services.status(role, probe?.httpGet.path ?? '')).toBe(200);
        }
      }
    });
  });

  it('every file of the base is listed in its kustomization', () => {
    const k = readYaml<{ resources: string[] }>('deploy/kubernetes/base/kustomization.yaml');
    const files = readdirSync(join(DEPLOY, 'kubernetes/base')).filter((f) => f !== 'kustomization.yaml');
    expect([...k.resources].sort()).toEqual(files.sort());
  });
});
