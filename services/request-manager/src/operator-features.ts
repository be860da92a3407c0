/**
 * Locks, schedules and webhook notifications, assembled from the config for
 * one RM: the final-state listeners (lock release and waiter start, webhooks),
 * the scheduler, and the fields they add to GET /requests/{id}. The life
 * cycle is bound late (`bindLifecycle`): it needs the locks and the final
 * states, and the locks start waiters through it.
 */
import { State } from '@spincycle/protocol';
import { type Logger, readTokenFile } from '@spincycle/service-kit';
import type { RequestCatalog } from './catalog.js';
import type { RmConfigValues } from './config.js';
import type { Db } from './db/db.js';
import type { RequestRow } from './db/entities.js';
import type { ExplainContributor } from './explain.js';
import { FinalStates } from './final-states.js';
import { lockExplainContributor } from './lock-explain.js';
import { Locks } from './locks.js';
import { Notifier } from './notify.js';
import type { RequestLifecycle } from './request-lifecycle.js';
import { parseSchedules } from './schedules/schedule-config.js';
import { Scheduler } from './schedules/scheduler.js';
import type { JobLogStore } from './stores/job-log-store.js';
import { LockStore } from './stores/lock-store.js';
import { NotificationStore } from './stores/notification-store.js';
import type { RequestStore } from './stores/request-store.js';
import { ScheduleStore } from './stores/schedule-store.js';

export interface OperatorFeatures {
  finals: FinalStates;
  locks: Locks;
  notifier: Notifier;
  scheduler: Scheduler;
  /** Their reasons for "explain" (a PENDING request waiting for a lock), for `rm.explainer`. */
  explainContributors: ExplainContributor[];
  /** `waitingFor` (PENDING requests waiting for a lock) and `notifications` for GET /requests/{id}. */
  extras(row: RequestRow): Promise<Record<string, unknown> | undefined>;
  bindLifecycle(lifecycle: RequestLifecycle): void;
  start(): void;
  stop(): Promise<void>;
}

export interface OperatorDeps {
  db: Db;
  requests: RequestStore;
  logs: JobLogStore;
  catalog: RequestCatalog;
  logger: Logger;
  instanceId: string;
  /** The scheduler's clock (tests). */
  now?: () => Date;
}

/** Throws ConfigError on a bad `schedules` entry or an unreadable `notify.hmac_secret_file`. */
export function createOperatorFeatures(config: RmConfigValues, d: OperatorDeps): OperatorFeatures {
  const spec = (type: string) => d.catalog.specs.sequences.get(type);
  const schedules = parseSchedules(config.schedules, (t) => spec(t)?.request === true);
  const secretFile = config['notify.hmac_secret_file'];
  const hmacSecret = secretFile ? readTokenFile('notify.hmac_secret_file', secretFile)[0] : undefined;
  let lifecycle: RequestLifecycle | undefined;
  const finals = new FinalStates(d.logger);
  const locks = new Locks(
    {
      store: new LockStore(d.db),
      requests: d.requests,
      specOf: (type) => spec(type),
      startGranted: async (id) => (lifecycle ? lifecycle.startGranted(id) : false),
      logger: d.logger,
    },
    { sweepIntervalMs: config['locks.sweep_interval'] },
  );
  const notifier = new Notifier(
    {
      store: new NotificationStore(d.db),
      requests: d.requests,
      logs: d.logs,
      urlsOf: (type) => spec(type)?.notify ?? [],
      instanceId: d.instanceId,
      logger: d.logger,
    },
    {
      hmacSecret,
      allowPrivate: config['notify.allow_private'],
      timeoutMs: config['notify.timeout'],
      attempts: config['notify.attempts'],
      retryWaitMs: config['notify.retry_wait'],
      sweepIntervalMs: 30_000,
    },
  );
  finals.on(
    (id) => locks.onFinal(id),
    (type) => (spec(type)?.lock?.length ?? 0) > 0,
  );
  finals.on(
    (id) => notifier.onFinal(id),
    (type) => (spec(type)?.notify?.length ?? 0) > 0,
  );
  const scheduler = new Scheduler(
    schedules,
    {
      store: new ScheduleStore(d.db),
      requests: d.requests,
      create: async (caller, type, args) => {
        if (!lifecycle) throw new Error('the Request Manager is not ready');
        return lifecycle.create(caller, { type, args });
      },
      logger: d.logger,
      instanceId: d.instanceId,
    },
    {
      intervalMs: config['scheduler.interval'],
      graceMs: config['scheduler.grace'],
      defaultRoles: config['auth.admin_roles'],
      now: d.now,
    },
  );
  return {
    finals,
    locks,
    notifier,
    scheduler,
    explainContributors: [lockExplainContributor(locks)],
    async extras(row) {
      const out: Record<string, unknown> = {};
      // Only types with `lock:` or `notify:` can have rows to show: the others (most GETs) cost no query.
      if (row.state === State.PENDING && (spec(row.type)?.lock?.length ?? 0) > 0) {
        const holders = await locks.lockHolderOf(row.request_id);
        if (holders.length > 0) out.waitingFor = holders;
      }
      if (
        [State.COMPLETE, State.FAIL, State.STOPPED].includes(row.state as 3) &&
        (spec(row.type)?.notify?.length ?? 0) > 0
      ) {
        const notifications = await notifier.statusOf(row.request_id);
        if (notifications) out.notifications = notifications;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    },
    bindLifecycle(l) {
      lifecycle = l;
    },
    start() {
      locks.start();
      notifier.start();
      scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await locks.stop();
      await finals.settle();
      await notifier.stop();
    },
  };
}
