/**
 * The two metric lists agree: `deploy/monitoring/metrics.json` (what the alert rules and the
 * dashboard are checked against) and service-kit's METRIC_LIST (what the services register and
 * the end-to-end scrape test checks), so neither can drift from the other.
 */
import { DEFAULT_METRICS_USED, METRIC_LIST } from '@spincycle/service-kit';
import { describe, expect, it } from 'vitest';
import { read } from './support.js';

interface Listed {
  name: string;
  type: string;
  service?: string;
  labels?: string[];
  help: string;
}
const catalog = JSON.parse(read('deploy/monitoring/metrics.json')) as {
  metrics: Listed[];
  defaults: Listed[];
};

const byName = <T extends { name: string }>(list: readonly T[]) =>
  [...list].sort((a, b) => a.name.localeCompare(b.name));

describe('metrics.json and service-kit METRIC_LIST', () => {
  it('name the same metrics with the same type, service, labels and help', () => {
    const fromJson = byName(catalog.metrics).map((m) => ({
      name: m.name,
      type: m.type,
      service: m.service,
      labels: m.labels ?? [],
      help: m.help,
    }));
    const fromCode = byName(METRIC_LIST).map((m) => ({
      name: m.name,
      type: m.type,
      service: m.service,
      labels: [...m.labels],
      help: m.help,
    }));
    expect(fromJson).toEqual(fromCode);
  });

  it('list the same prom-client defaults', () => {
    expect(catalog.defaults.map((m) => m.name).sort()).toEqual([...DEFAULT_METRICS_USED].sort());
  });
});
