/**
 * Prometheus metrics with prom-client: one registry per process, prom-client's
 * default process and event-loop metrics, the metrics of metric-names.ts made
 * from that list, `GET /metrics`, and bounded label values.
 *
 * Metrics are process-wide (a test may run several services in one process:
 * counters add up); a gauge reads its value at scrape time from the sources
 * each running service adds (`addGaugeSource`) and removes when it stops.
 */
import type { RequestHandler } from 'express';
import client from 'prom-client';
import { DURATION_BUCKETS, METRICS, type MetricKey, OTHER_LABEL } from './metric-names.js';

export const metricsRegistry = new client.Registry();
let defaultsOn = false;
const made = new Map<MetricKey, client.Metric<string>>();

type KeysOf<T extends string> = {
  [K in MetricKey]: (typeof METRICS)[K]['type'] extends T ? K : never;
}[MetricKey];
export type CounterKey = KeysOf<'counter'>;
export type GaugeKey = KeysOf<'gauge'>;
export type HistogramKey = KeysOf<'histogram'>;

/** prom-client's default metrics (process_*, nodejs_*), once per process. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  client.collectDefaultMetrics({ register: metricsRegistry });
}

function make<M extends client.Metric<string>>(key: MetricKey, create: () => M): M {
  let m = made.get(key);
  if (!m) {
    m = create();
    made.set(key, m);
  }
  return m as M;
}

function base(key: MetricKey) {
  const d = METRICS[key];
  return { name: d.name, help: d.help, labelNames: [...d.labels], registers: [metricsRegistry] };
}

/** Label values by label name. */
type Labels = Record<string, string>;

/** A counter as the hot paths use it. */
export interface Counter {
  inc(labels?: Labels, value?: number): void;
}

/** A histogram as the hot paths use it. */
export interface Histogram {
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
}

// Counts and observations are kept in plain maps and handed to prom-client when it
// collects (a scrape, or a test reading the metric): prom-client hashes and checks
// the labels on every call, a measurable share of a busy JR's time (a call per job try).
const MAX_PENDING = 10_000;

function labelKey(names: readonly string[], labels: Labels): string {
  let key = '';
  for (const n of names) key += `${labels[n]}\u0001`;
  return key;
}

const counters = new Map<CounterKey, Counter>();
const histograms = new Map<HistogramKey, Histogram>();

export function counter(key: CounterKey): Counter {
  let c = counters.get(key);
  if (c) return c;
  const names = METRICS[key].labels;
  const pending = new Map<string, { labels: Labels; value: number }>();
  make(
    key,
    () =>
      new client.Counter({
        ...base(key),
        collect() {
          for (const p of pending.values()) this.inc(p.labels, p.value);
          pending.clear();
        },
      }),
  );
  c = {
    inc(labels: Labels = {}, value = 1): void {
      const k = labelKey(names, labels);
      const p = pending.get(k);
      if (p) p.value += value;
      else pending.set(k, { labels, value });
    },
  };
  counters.set(key, c);
  return c;
}

export function histogram(key: HistogramKey): Histogram {
  let h = histograms.get(key);
  if (h) return h;
  const names = METRICS[key].labels;
  const pending = new Map<string, { labels: Labels; values: number[] }>();
  let count = 0;
  const flush = (metric: client.Histogram<string>) => {
    for (const p of pending.values()) for (const v of p.values) metric.observe(p.labels, v);
    pending.clear();
    count = 0;
  };
  const metric = make(
    key,
    () =>
      new client.Histogram({
        ...base(key),
        buckets: DURATION_BUCKETS,
        collect() {
          flush(this);
        },
      }),
  );
  h = {
    observe(a: Labels | number, b?: number): void {
      const labels = typeof a === 'number' ? {} : a;
      const value = typeof a === 'number' ? a : (b as number);
      // A value prom-client refuses is refused now, where the caller can see it.
      if (!Number.isFinite(value)) {
        metric.observe(labels, value);
        return;
      }
      const k = labelKey(names, labels);
      const p = pending.get(k);
      if (p) p.values.push(value);
      else pending.set(k, { labels, values: [value] });
      if (++count >= MAX_PENDING) flush(metric);
    },
  };
  histograms.set(key, h);
  return h;
}

/** One gauge reading: a number (no labels) or values by label set. */
export type GaugeReading = number | ReadonlyArray<{ labels: Record<string, string>; value: number }>;
type GaugeSource = () => GaugeReading | Promise<GaugeReading>;

const sources = new Map<GaugeKey, Set<GaugeSource>>();

function gauge(key: GaugeKey): client.Gauge<string> {
  return make(
    key,
    () =>
      new client.Gauge({
        ...base(key),
        // Summed over the sources: one per running service (usually exactly one).
        async collect() {
          const readings = await Promise.all([...(sources.get(key) ?? [])].map((read) => read()));
          this.reset();
          for (const r of readings) {
            if (typeof r === 'number') this.inc(r);
            else for (const { labels, value } of r) this.inc(labels, value);
          }
        },
      }),
  );
}

/** Read a gauge from `read` at every scrape; returns the function that stops it. */
export function addGaugeSource(key: GaugeKey, read: GaugeSource): () => void {
  gauge(key);
  let set = sources.get(key);
  if (!set) {
    set = new Set();
    sources.set(key, set);
  }
  set.add(read);
  return () => set.delete(read);
}

/**
 * Values a label may take that come from configuration (request types from
 * the specs, job types from the job factory), process-wide. Anything else is
 * `other`, so a caller can never create a series.
 */
export class KnownValues {
  private readonly values = new Set<string>();

  add(values: Iterable<string>): void {
    for (const v of values) this.values.add(v);
  }

  /** `value` when known, else `other`. */
  label(value: string): string {
    return this.values.has(value) ? value : OTHER_LABEL;
  }
}

/** `GET /metrics`: the registry in the Prometheus text format. */
export function metricsHandler(): RequestHandler {
  enableDefaultMetrics();
  return async (_req, res) => {
    const text = await metricsRegistry.metrics();
    res.setHeader('Content-Type', metricsRegistry.contentType);
    res.end(text);
  };
}
