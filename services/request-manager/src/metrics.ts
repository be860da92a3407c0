/**
 * The RM's metrics (names in service-kit's metric-names.ts): named helpers
 * for the call sites, and the gauges read at scrape time from the database,
 * the Job Runner heartbeats and the connection pool (`startRmMetrics`).
 */
import { ApiError, FINAL_STATES, type JrClient, State, stateName } from '@spincycle/protocol';
import { addGaugeSource, counter, type GaugeReading, histogram, KnownValues } from '@spincycle/service-kit';
import type { DataSource } from 'typeorm';
import type { Db } from './db/db.js';

const requestTypes = new KnownValues();
const created = counter('requestsCreated');
const finished = counter('requestsFinished');
const createDuration = histogram('requestCreateDuration');
const jrCallErrors = counter('rmJrCallErrors');

/** Request types by id, for finishes (which do not carry the type); bounded, oldest dropped first. */
const typeById = new Map<string, string>();
const TYPE_CACHE = 50_000;
let lookupType: ((id: string) => Promise<string | undefined>) | undefined;

function remember(id: string, type: string): void {
  if (typeById.size >= TYPE_CACHE) typeById.delete(typeById.keys().next().value as string);
  typeById.set(id, type);
}

function countFinished(type: string, state: number): void {
  finished.inc({ type: requestTypes.label(type), state: stateName(state) });
}

export const rmMetrics = {
  /** A request was stored and started; `t0` is when its create call began (performance.now()). */
  requestCreated(id: string, type: string, t0: number): void {
    remember(id, type);
    created.inc({ type: requestTypes.label(type) });
    createDuration.observe((performance.now() - t0) / 1000);
  },

  /**
   * A request reached a final state here. Without its type, the type is the
   * one this RM created it with, else read from the database (off the
   * caller's path: a finish may land on another RM than the create).
   * Answers the type when it is known here without a read.
   */
  requestFinished(id: string, state: number, type?: string): string | undefined {
    if (!FINAL_STATES.has(state)) return type;
    const known = type ?? typeById.get(id);
    typeById.delete(id);
    if (known !== undefined || !lookupType) {
      countFinished(known ?? '', state);
      return known;
    }
    lookupType(id).then(
      (t) => countFinished(t ?? '', state),
      () => countFinished('', state),
    );
    return undefined;
  },

  /** A call to a Job Runner failed: no answer, or a 5xx, after the client's retries. */
  jrCallFailed(op: string): void {
    jrCallErrors.inc({ op });
  },
};

/** JrClient methods and their `op` label. */
const JR_OPS = {
  startChain: 'start_chain',
  startChains: 'start_chains',
  resumeChain: 'resume_chain',
  stopChain: 'stop_chain',
  running: 'status',
} as const;

/** A failure of the Job Runner or the way to it, not an answer about the chain (4xx). */
const isCallFailure = (err: unknown) =>
  !(err instanceof ApiError) || err.status === undefined || err.status >= 500;

/** `client` with its calls' failures counted (`spincycle_rm_jr_call_errors_total{op}`). */
export function countingJrCalls(client: JrClient): JrClient {
  for (const [method, op] of Object.entries(JR_OPS)) {
    const c = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const call = (c[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
    c[method] = (...args) =>
      call(...args).catch((err: unknown) => {
        if (isCallFailure(err)) rmMetrics.jrCallFailed(op);
        throw err;
      });
  }
  return client;
}

/** Every 10 s at most: the gauges read the database, and a scrape may come every few seconds from each Prometheus. */
const CACHE_MS = 10_000;

/** A reading kept for CACHE_MS (and while one is being made, shared). */
function cached(read: () => Promise<GaugeReading>): () => Promise<GaugeReading> {
  let at = 0;
  let value: Promise<GaugeReading> | undefined;
  return () => {
    if (!value || Date.now() - at > CACHE_MS) {
      at = Date.now();
      value = read().catch(() => {
        at = 0;
        return [];
      });
    }
    return value;
  };
}

const NON_FINAL: number[] = [State.UNKNOWN, State.PENDING, State.RUNNING, State.SUSPENDED];

/** Requests by non-final state: one GROUP BY on the state index (final states, which grow without end, are not counted). */
async function requestsByState(db: Db): Promise<GaugeReading> {
  const rows = await db.run((m) =>
    db.select<{ state: unknown; n: unknown }>(
      m,
      `SELECT \`state\`, COUNT(*) AS n FROM \`requests\` WHERE \`state\` IN (${NON_FINAL.join(',')}) GROUP BY \`state\``,
      [],
    ),
  );
  const counts = new Map(NON_FINAL.map((s) => [s, 0]));
  for (const r of rows) counts.set(Number(r.state), Number(r.n));
  return [...counts].map(([s, value]) => ({ labels: { state: stateName(s) }, value }));
}

interface Mysql2PoolView {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  config?: { connectionLimit?: number };
}

/** Connections of mysql2's pool (its counts are not public API: read defensively); SQLite has one. */
function poolConnections(ds: DataSource): GaugeReading {
  if (ds.options.type !== 'mysql') return [{ labels: { state: 'max' }, value: 1 }];
  const pool = (ds.driver as unknown as { pool?: Mysql2PoolView }).pool;
  const all = pool?._allConnections?.length ?? 0;
  const idle = pool?._freeConnections?.length ?? 0;
  return [
    { labels: { state: 'in_use' }, value: all - idle },
    { labels: { state: 'idle' }, value: idle },
    { labels: { state: 'max' }, value: pool?.config?.connectionLimit ?? 0 },
  ];
}

export interface RmMetricsDeps {
  db: Db;
  /** The loaded specs (RequestCatalog). */
  catalog: { requestList(): ReadonlyArray<{ Name: string }> };
  /** Job Runner heartbeats (JobRunnerLiveness). */
  liveness: { snapshot(): Promise<ReadonlyMap<string, { live: boolean }>> };
}

/** Gauges of this RM read at scrape time, and the known request types; returns the function that stops them. */
export function startRmMetrics(d: RmMetricsDeps): () => void {
  requestTypes.add(d.catalog.requestList().map((r) => r.Name));
  lookupType = async (id) => {
    const rows = await d.db.run((m) =>
      d.db.select<{ type: unknown }>(m, 'SELECT `type` FROM `requests` WHERE `request_id` = ?', [id]),
    );
    return rows[0] === undefined ? undefined : String(rows[0].type);
  };
  const stops = [
    addGaugeSource(
      'requests',
      cached(() => requestsByState(d.db)),
    ),
    addGaugeSource(
      'jrLive',
      cached(async () => [...(await d.liveness.snapshot()).values()].filter((s) => s.live).length),
    ),
    addGaugeSource('dbPoolConnections', () => poolConnections(d.db.ds)),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
