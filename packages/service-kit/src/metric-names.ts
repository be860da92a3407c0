/**
 * Every metric the services export besides prom-client's defaults: name,
 * type, labels and help in one list. The services register their metrics
 * from it (metrics.ts), the tests check the scrapes against it, and
 * `deploy/monitoring/metrics.json` (alerts, dashboard) must say the same.
 * Label values are bounded: request and job types from the loaded specs and
 * job factory (anything else is `other`), states, route templates; never ids.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
/** Which service exports a metric: the Request Manager, the Job Runner, or both. */
export type MetricService = 'rm' | 'jr' | 'rm,jr';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly service: MetricService;
  readonly labels: readonly string[];
  readonly help: string;
}

/** Histogram buckets in seconds: from a millisecond to ten minutes (job tries). */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

/** The label value of a request or job type the services do not know (and of anything unbounded). */
export const OTHER_LABEL = 'other';

export const METRICS = {
  requestsCreated: {
    name: 'spincycle_requests_created_total',
    type: 'counter',
    service: 'rm',
    labels: ['type'],
    help: 'Requests created, by request type.',
  },
  requestsFinished: {
    name: 'spincycle_requests_finished_total',
    type: 'counter',
    service: 'rm',
    labels: ['type', 'state'],
    help: 'Requests that reached a final state, by request type and state.',
  },
  requests: {
    name: 'spincycle_requests',
    type: 'gauge',
    service: 'rm',
    labels: ['state'],
    help: 'Requests in the database in a non-final state (PENDING, RUNNING, SUSPENDED), by state; read at most every 10 s.',
  },
  requestCreateDuration: {
    name: 'spincycle_request_create_duration_seconds',
    type: 'histogram',
    service: 'rm',
    labels: [],
    help: 'Time to create a request (POST /api/v1/requests), chain building and storing included.',
  },
  jobTries: {
    name: 'spincycle_job_tries_total',
    type: 'counter',
    service: 'jr',
    labels: ['type', 'state'],
    help: 'Job tries that ended, by job type and final state of the try.',
  },
  jobDuration: {
    name: 'spincycle_job_duration_seconds',
    type: 'histogram',
    service: 'jr',
    labels: ['type'],
    help: 'Duration of job tries, by job type.',
  },
  jrRunningJobs: {
    name: 'spincycle_jr_running_jobs',
    type: 'gauge',
    service: 'jr',
    labels: [],
    help: 'Jobs running on this Job Runner now.',
  },
  jrRunningChains: {
    name: 'spincycle_jr_running_chains',
    type: 'gauge',
    service: 'jr',
    labels: [],
    help: 'Job chains on this Job Runner now.',
  },
  jrReportQueue: {
    name: 'spincycle_jr_report_queue',
    type: 'gauge',
    service: 'jr',
    labels: [],
    help: 'Job-log entries and final states waiting to be delivered to the RM.',
  },
  jrReportLag: {
    name: 'spincycle_jr_report_lag_seconds',
    type: 'gauge',
    service: 'jr',
    labels: [],
    help: 'Age of the oldest undelivered job-log entry (0 when none waits).',
  },
  jrLive: {
    name: 'spincycle_jr_live',
    type: 'gauge',
    service: 'rm',
    labels: [],
    help: 'Job Runners live by their heartbeats, as this RM sees them.',
  },
  rmJrCallErrors: {
    name: 'spincycle_rm_jr_call_errors_total',
    type: 'counter',
    service: 'rm',
    labels: ['op'],
    help: 'RM calls to Job Runners that failed (after the client retries), by operation.',
  },
  dbPoolConnections: {
    name: 'spincycle_db_pool_connections',
    type: 'gauge',
    service: 'rm',
    labels: ['state'],
    help: 'Database connections of this RM by state (in_use, idle, max); SQLite: one connection.',
  },
  httpRequests: {
    name: 'spincycle_http_requests_total',
    type: 'counter',
    service: 'rm,jr',
    labels: ['service', 'method', 'route', 'status'],
    help: 'HTTP requests served, by service, method, route template and status code.',
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

/** The list, for tests and documentation. */
export const METRIC_LIST: readonly MetricDef[] = Object.values(METRICS);

/** prom-client default metrics the alerts and dashboard rely on (every service exports them). */
export const DEFAULT_METRICS_USED = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_heap_size_used_bytes',
] as const;
