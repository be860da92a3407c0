/**
 * Fires the configured schedules. Every RM ticks; for each due time the RM
 * whose `schedule_runs` INSERT lands creates the request (user
 * `schedule:<name>`), the others find the row and do nothing, so a run is
 * fired at most once however many RMs run and restart. A due time within
 * `grace` of now is on time and fires; older due times were missed while no
 * RM ran: `missed: skip` records one skipped run in their place, `run-once`
 * fires one run for the latest of them. A schedule with no runs yet starts
 * at the RM's boot: no backlog is ever replayed.
 */
import { State, stateName } from '@spincycle/protocol';
import { type Logger, PeriodicTask } from '@spincycle/service-kit';
import type { Caller } from '../auth.js';
import type { RequestStore } from '../stores/request-store.js';
import type { ScheduleRun, ScheduleStore } from '../stores/schedule-store.js';
import type { ScheduleDef } from './schedule-config.js';

export interface SchedulerDeps {
  store: ScheduleStore;
  requests: RequestStore;
  /** Create a request as `caller` (the life cycle's create: authorized, locks, sent to a JR). */
  create: (caller: Caller, type: string, args: Record<string, unknown>) => Promise<{ id: string }>;
  logger: Logger;
  instanceId: string;
}

export interface SchedulerOptions {
  intervalMs: number;
  graceMs: number;
  /** Roles of schedule callers without their own `roles`. */
  defaultRoles: readonly string[];
  /** The clock (tests move it). */
  now?: () => Date;
}

/** Most due times one tick looks at per schedule (a per-second schedule after a long outage). */
const MAX_DUE = 10_000;

export class Scheduler {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly bootAt: Date;
  private readonly ticker: PeriodicTask;

  constructor(
    private readonly schedules: readonly ScheduleDef[],
    private readonly d: SchedulerDeps,
    private readonly opts: SchedulerOptions,
  ) {
    this.log = d.logger.child({ component: 'scheduler' });
    this.ticker = new PeriodicTask({
      intervalMs: opts.intervalMs,
      run: () => this.tick(),
      onError: (err) => this.log.warn('scheduler tick failed', { error: (err as Error).message }),
    });
    this.now = opts.now ?? (() => new Date());
    this.bootAt = this.now();
  }

  /** One pass: fire what is due on every schedule. */
  async tick(): Promise<void> {
    if (this.schedules.length === 0) return;
    const now = this.now();
    const latest = await this.d.store.latest();
    for (const s of this.schedules) {
      try {
        await this.tickOne(s, latest.get(s.name)?.dueAt ?? this.bootAt, now);
      } catch (err) {
        this.log.warn('schedule tick failed', { schedule: s.name, error: (err as Error).message });
      }
    }
  }

  private async tickOne(s: ScheduleDef, from: Date, now: Date): Promise<void> {
    const due: Date[] = [];
    for (let d = s.pattern.nextRun(from); d && d <= now && due.length < MAX_DUE; d = s.pattern.nextRun(d))
      due.push(d);
    const missed = due.filter((d) => now.getTime() - d.getTime() > this.opts.graceMs);
    const onTime = due.slice(missed.length);
    const lastMissed = missed.at(-1);
    if (lastMissed) {
      if (s.missed === 'run-once')
        await this.fire(s, lastMissed, `run once for ${missed.length} missed run(s)`);
      else if (
        await this.d.store.claim(
          {
            schedule: s.name,
            dueAt: lastMissed,
            outcome: 'skipped',
            error: `${missed.length} run(s) due while no Request Manager ran were skipped (missed: skip)`,
          },
          this.d.instanceId,
        )
      )
        this.log.warn('missed schedule runs skipped', { schedule: s.name, missed: missed.length });
    }
    for (const d of onTime) await this.fire(s, d);
  }

  private async fire(s: ScheduleDef, dueAt: Date, why?: string): Promise<void> {
    const claimed = await this.d.store.claim(
      { schedule: s.name, dueAt, outcome: 'created', error: null },
      this.d.instanceId,
    );
    if (!claimed) return; // another RM fires it
    const caller: Caller = { name: `schedule:${s.name}`, roles: [...(s.roles ?? this.opts.defaultRoles)] };
    try {
      const { id } = await this.d.create(caller, s.type, s.args);
      await this.d.store.settle(s.name, dueAt, { outcome: 'created', requestId: id });
      this.log.info('schedule fired', { schedule: s.name, dueAt: dueAt.toISOString(), requestId: id, why });
    } catch (err) {
      const error = (err as Error).message;
      // A request stored but not started (no JR took it) is FAIL: the run names it.
      const requestId = (err as { requestId?: string }).requestId;
      await this.d.store.settle(s.name, dueAt, { outcome: 'failed', error, requestId });
      this.log.warn('schedule run failed', { schedule: s.name, dueAt: dueAt.toISOString(), error });
    }
  }

  /** GET /schedules: each schedule with its last run (and that request's state) and its next run. */
  async list(): Promise<Array<Record<string, unknown>>> {
    const latest = await this.d.store.latest();
    const ids = [...latest.values()].map((r) => r.requestId).filter((id): id is string => id !== null);
    const states = await this.d.requests.statesOf(ids);
    const now = this.now();
    return this.schedules.map((s) => {
      const last: ScheduleRun | undefined = latest.get(s.name);
      const state = last?.requestId ? states.get(last.requestId)?.state : undefined;
      return {
        name: s.name,
        cron: s.cron,
        timezone: s.timezone,
        type: s.type,
        missed: s.missed,
        nextRun: s.pattern.nextRun(now)?.toISOString() ?? null,
        lastRun: last
          ? {
              dueAt: last.dueAt.toISOString(),
              outcome: last.outcome,
              requestId: last.requestId,
              state: state === undefined ? null : stateName(state ?? State.UNKNOWN),
              ...(last.error ? { error: last.error } : {}),
            }
          : null,
      };
    });
  }

  start(): void {
    if (this.schedules.length > 0) this.ticker.start();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
  }
}
