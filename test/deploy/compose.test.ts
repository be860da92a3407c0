/** deploy/compose.yaml: services, order, env vars the services read, ports, advertised URLs, Prometheus targets. */
import { describe, expect, it } from 'vitest';
import { defaultPort, envNames, jrShutdownGraceMs, portOf, type Role, readYaml, SCHEMAS } from './support.js';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = readYaml<{ services: Record<string, Service> }>('deploy/compose.yaml');
const services = Object.entries(compose.services);
const byCommand = (cmd: string) => services.filter(([, s]) => s.command?.[0] === cmd);
const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)?.[1]);

describe('deploy/compose.yaml', () => {
  it('has MySQL 8, a one-shot migration the RMs wait for, 2 RMs behind one nginx address, 3 JRs and Prometheus', () => {
    expect(compose.services.mysql?.image).toMatch(/^mysql:8/);
    expect(byCommand('migrate').map(([n]) => n)).toEqual(['migrate']);
    expect(compose.services.migrate?.depends_on?.mysql?.condition).toBe('service_healthy');
    const rms = byCommand('rm');
    expect(rms).toHaveLength(2);
    for (const [, s] of rms) expect(s.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(byCommand('jr')).toHaveLength(3);
    expect(compose.services.rm?.image).toMatch(/^nginx:/);
    expect(compose.services.prometheus?.image).toMatch(/^prom\/prometheus:/);
  });

  it('every SPINCYCLE_* variable is one the service reads', () => {
    const roleOf: Record<string, Role> = { rm: 'rm', migrate: 'rm', jr: 'jr' };
    for (const [name, s] of services) {
      const role = roleOf[s.command?.[0] ?? ''];
      if (!role) continue;
      const known = envNames(SCHEMAS[role]);
      for (const key of Object.keys(s.environment ?? {}))
        if (key.startsWith('SPINCYCLE_')) expect(known.has(key), `${name}: ${key}`).toBe(true);
    }
  });

  it('services listen on their default ports; each JR advertises its own address; the JRs and RMs name each other', () => {
    for (const [, s] of byCommand('rm')) {
      expect(portOf(s.environment?.SPINCYCLE_SERVER_ADDR ?? '')).toBe(defaultPort('rm'));
      expect(s.environment?.SPINCYCLE_JR_CLIENT_URL?.split(',')).toEqual(
        byCommand('jr').map(([n]) => `http://${n}:${defaultPort('jr')}`),
      );
    }
    for (const [name, s] of byCommand('jr')) {
      expect(portOf(s.environment?.SPINCYCLE_SERVER_ADDR ?? '')).toBe(defaultPort('jr'));
      expect(s.environment?.SPINCYCLE_SERVER_ADVERTISE_URL).toBe(`http://${name}:${defaultPort('jr')}`);
      expect(s.environment?.SPINCYCLE_RM_CLIENT_URL).toBe(`http://rm:${defaultPort('rm')}`);
      // SIGKILL must not cut a hand-off.
      expect(seconds(s.stop_grace_period ?? '') * 1000).toBeGreaterThan(
        jrShutdownGraceMs(s.environment ?? {}),
      );
    }
  });

  it('the nginx address checks RM readiness and forwards to both RMs', async () => {
    expect(compose.services.rm?.healthcheck?.test.join(' ')).toContain(`:${defaultPort('rm')}/ready`);
    const { read } = await import('./support.js');
    const nginx = read('deploy/docker/nginx.conf');
    for (const [n] of byCommand('rm')) expect(nginx).toContain(`server ${n}:${defaultPort('rm')}`);
  });

  it('Prometheus scrapes every RM and JR at /metrics', () => {
    const prom = readYaml<{
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    }>('deploy/monitoring/prometheus.yml');
    const targets = prom.scrape_configs.flatMap((c) => {
      expect(c.metrics_path).toBe('/metrics');
      return c.static_configs.flatMap((s) => s.targets);
    });
    expect(targets.sort()).toEqual(
      [
        ...byCommand('rm').map(([n]) => `${n}:${defaultPort('rm')}`),
        ...byCommand('jr').map(([n]) => `${n}:${defaultPort('jr')}`),
      ].sort(),
    );
  });
});
