/**
 * The JR's metrics (names in service-kit's metric-names.ts): job tries by
 * job type, and gauges read at scrape time from the running Job Runner
 * (`startJrMetrics`). Job types the job factory does not list are `other`.
 */
import type { JobFactory } from '@spincycle/jobs';
import { stateName } from '@spincycle/protocol';
import { addGaugeSource, counter, histogram, KnownValues } from '@spincycle/service-kit';

const jobTypes = new KnownValues();
const tries = counter('jobTries');
const durations = histogram('jobDuration');

export const jrMetrics = {
  /** A try of a job ended in `state`; its start and end in Unix ns (none: it never ran, e.g. its runner could not be made). */
  jobTry(type: string, state: number, startedAt?: bigint, finishedAt?: bigint): void {
    const label = jobTypes.label(type);
    tries.inc({ type: label, state: stateName(state) });
    if (startedAt !== undefined && finishedAt !== undefined)
      durations.observe({ type: label }, Number(finishedAt - startedAt) / 1e9);
  },
};

export interface JrMetricsDeps {
  factory: JobFactory;
  /** Chains held (ChainRegistry). */
  registry: { readonly size: number };
  /** Job slots in use (JobSlots). */
  slots: { readonly inUse: number };
  /** What waits for the RM (Reporter). */
  reporter: { readonly backlog: number; readonly oldestUndeliveredMs: number | undefined };
}

/** This JR's gauges and known job types; returns the function that stops the gauges. */
export function startJrMetrics(d: JrMetricsDeps): () => void {
  jobTypes.add(d.factory.types?.() ?? []);
  const stops = [
    // A job holds its slot from start to end (retry waits included).
    addGaugeSource('jrRunningJobs', () => d.slots.inUse),
    addGaugeSource('jrRunningChains', () => d.registry.size),
    addGaugeSource('jrReportQueue', () => d.reporter.backlog),
    addGaugeSource('jrReportLag', () => {
      const oldest = d.reporter.oldestUndeliveredMs;
      return oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) / 1000;
    }),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
