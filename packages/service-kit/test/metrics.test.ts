import { describe, expect, it } from 'vitest';
import { METRIC_LIST, METRICS } from '../src/metric-names.js';
import { addGaugeSource, KnownValues, metricsRegistry } from '../src/metrics.js';

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
