import { describe, expect, it } from 'vitest';
import { METRIC_LIST, METRICS } from '../src/metric-names.js';
import { addGaugeSource, counter, histogram, KnownValues, metricsRegistry } from '../src/metrics.js';

describe('metric list', () => {
  it('names follow the conventions: one prefix, _total on counters only, base units', () => {
    const names = METRIC_LIST.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of METRIC_LIST) {
      expect(m.name).toMatch(/^spincycle_[a-z_]+$/);
      expect(m.name.endsWith('_total')).toBe(m.type === 'counter');
      if (m.type === 'histogram') expect(m.name).toMatch(/_seconds$/);
      expect(m.help.length).toBeGreaterThan(0);
    }
  });
});

describe('gauges and labels', () => {
  it('a gauge sums its sources at scrape time, and stops reading a removed one', async () => {
    const stopA = addGaugeSource('jrRunningChains', () => 2);
    const stopB = addGaugeSource('jrRunningChains', async () => 3);
    const read = async () =>
      (await metricsRegistry.getSingleMetric(METRICS.jrRunningChains.name)?.get())?.values;
    expect((await read())?.[0]?.value).toBe(5);
    stopB();
    expect((await read())?.[0]?.value).toBe(2);
    stopA();
    expect((await read())?.[0]?.value ?? 0).toBe(0);
  });

  it('label values outside the known ones are "other"', () => {
    const types = new KnownValues();
    types.add(['deploy']);
    expect(types.label('deploy')).toBe('deploy');
    expect(types.label('0123456789abcdefghij')).toBe('other');
  });
});

describe('counters and histograms (counted on the side, handed over at scrape time)', () => {
  const values = async (name: string) => (await metricsRegistry.getSingleMetric(name)?.get())?.values ?? [];

  it('a counter adds up by label set and shows every count at each read', async () => {
    const c = counter('jobTries');
    c.inc({ type: 'noop', state: 'COMPLETE' });
    c.inc({ type: 'noop', state: 'COMPLETE' }, 2);
    c.inc({ type: 'noop', state: 'FAIL' });
    const of = async (state: string) =>
      (await values(METRICS.jobTries.name)).find((v) => v.labels.type === 'noop' && v.labels.state === state)
        ?.value;
    expect(await of('COMPLETE')).toBe(3);
    expect(await of('FAIL')).toBe(1);
    c.inc({ type: 'noop', state: 'FAIL' });
    expect(await of('FAIL')).toBe(2);
    expect(await of('COMPLETE')).toBe(3);
  });

  it('a histogram keeps every observation, also past the pending bound', async () => {
    const h = histogram('jobDuration');
    for (let i = 0; i < 10_005; i++) h.observe({ type: 'sleep' }, 0.5);
    h.observe({ type: 'sleep' }, 2);
    // prom-client names each histogram series (`…_bucket`, `…_sum`, `…_count`) on the value.
    const vals = (await values(METRICS.jobDuration.name)) as Array<{
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }>;
    const count = vals.find((v) => v.metricName?.endsWith('_count') && v.labels.type === 'sleep');
    const sum = vals.find((v) => v.metricName?.endsWith('_sum') && v.labels.type === 'sleep');
    expect(count?.value).toBe(10_006);
    expect(sum?.value).toBeCloseTo(10_005 * 0.5 + 2);
  });

  it('a value that is not a finite number is refused at once', () => {
    expect(() => histogram('jobDuration').observe({ type: 'sleep' }, Number.NaN)).toThrow(
      /not a valid number/,
    );
  });
});
