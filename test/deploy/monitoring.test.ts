/**
 * deploy/monitoring: metrics.json is the one list of metric names; the alert rules and the
 * Grafana dashboard use only metrics from it, and both are well-formed.
 */
import { describe, expect, it } from 'vitest';
import { read, readYaml } from './support.js';

interface Metric {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels?: string[];
  help: string;
}
const catalog = JSON.parse(read('deploy/monitoring/metrics.json')) as {
  metrics: Metric[];
  defaults: Metric[];
};
const all = [...catalog.metrics, ...catalog.defaults];

/** The series names a histogram or counter exposes. */
function series(m: Metric): string[] {
  return m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`, m.name] : [m.name];
}
const known = new Set(all.flatMap(series));

/** Metric names a PromQL expression uses (our prefixes only: `up` and functions are Prometheus'). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(?:spincycle|process|nodejs)_[a-z_]+\b/g)].map((m) => m[0]);
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = readYaml<{ groups: { name: string; rules: Rule[] }[] }>('deploy/monitoring/alerts.yaml');

interface Panel {
  title: string;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: { refId: string; expr: string }[];
}
const dashboard = JSON.parse(read('deploy/monitoring/grafana-dashboard.json')) as {
  title: string;
  uid: string;
  panels: Panel[];
};

describe('deploy/monitoring', () => {
  it('metrics.json: unique names, base units and Prometheus naming, each with a type and help', () => {
    const names = all.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of catalog.metrics) {
      expect(m.name).toMatch(/^spincycle_[a-z_]+$/);
      expect(['counter', 'gauge', 'histogram']).toContain(m.type);
      expect(m.name.endsWith('_total')).toBe(m.type === 'counter');
      expect(m.help.length).toBeGreaterThan(0);
      for (const l of m.labels ?? []) expect(l).not.toMatch(/id$/i);
    }
    // The operators' contract (labels included).
    const labels = (n: string) => catalog.metrics.find((m) => m.name === n)?.labels;
    expect(labels('spincycle_requests_finished_total')).toEqual(['type', 'state']);
    expect(labels('spincycle_http_requests_total')).toEqual(['service', 'method', 'route', 'status']);
    expect(catalog.defaults.map((m) => m.name)).toContain('nodejs_eventloop_lag_seconds');
  });

  it('alert rules: groups of rules, each with an alert name, expr, severity and summary, using listed metrics only', () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    const alerts: string[] = [];
    for (const g of rules.groups) {
      expect(g.name).toBeTruthy();
      expect(g.rules.length).toBeGreaterThan(0);
      for (const r of g.rules) {
        expect(r.alert ?? r.record).toBeTruthy();
        expect(typeof r.expr).toBe('string');
        if (r.for) expect(r.for).toMatch(/^\d+[smh]$/);
        if (r.alert) {
          alerts.push(r.alert);
          expect(['warning', 'critical']).toContain(r.labels?.severity);
          expect(r.annotations?.summary).toBeTruthy();
        }
        const used = metricsIn(r.expr);
        expect(used.length, r.alert).toBeGreaterThan(0);
        for (const m of used) expect(known.has(m), `${r.alert}: ${m}`).toBe(true);
      }
    }
    // Long-running requests, lost JRs, report lag, 5xx rate.
    expect(alerts).toEqual(
      expect.arrayContaining([
        'SpinCycleRequestsRunningLong',
        'SpinCycleJobRunnerLost',
        'SpinCycleReportLag',
        'SpinCycleHttp5xxRate',
      ]),
    );
  });

  it('the Grafana dashboard: panels with targets on the grid, using listed metrics only; every listed metric is shown', () => {
    expect(dashboard.title).toBe('Spin Cycle');
    expect(dashboard.uid).toBeTruthy();
    const shown = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.title).toBeTruthy();
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets)
        for (const m of metricsIn(t.expr)) {
          expect(known.has(m), `${p.title}: ${m}`).toBe(true);
          shown.add(m.replace(/_(bucket|sum|count)$/, ''));
        }
    }
    for (const m of catalog.metrics) expect(shown.has(m.name), m.name).toBe(true);
  });

  it('Prometheus target labels clash with no metric label, and the rules select JRs by one of them', () => {
    const prom = readYaml<{ scrape_configs: { static_configs: { labels?: Record<string, string> }[] }[] }>(
      'deploy/monitoring/prometheus.yml',
    );
    const targetLabels = new Set(
      prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => Object.keys(s.labels ?? {}))),
    );
    // A clash makes Prometheus rename the metric's label to exported_<name>, breaking `by (service)`.
    for (const m of catalog.metrics)
      for (const l of m.labels ?? []) expect(targetLabels.has(l), `${m.name}: ${l}`).toBe(false);
    const upSelectors = rules.groups
      .flatMap((g) => g.rules)
      .flatMap((r) => [...r.expr.matchAll(/\bup\{(\w+)="[^"]*"\}/g)].map((m) => m[1]));
    expect(upSelectors.length).toBeGreaterThan(0);
    for (const l of upSelectors) expect(targetLabels.has(l as string), l).toBe(true);
  });

  it('Prometheus loads the alert rules mounted in compose', () => {
    const prom = readYaml<{ rule_files: string[] }>('deploy/monitoring/prometheus.yml');
    expect(prom.rule_files).toEqual(['/etc/prometheus/alerts.yaml']);
    expect(read('deploy/compose.yaml')).toContain('./monitoring/alerts.yaml:/etc/prometheus/alerts.yaml:ro');
  });
});
