/**
 * Locks, one request per value: a request type with `lock: [host]` holds the
 * lock (host, <value>) from create until its request reaches a final state;
 * a list-valued arg holds one lock per element. Exclusive across RMs through
 * the primary key of `request_locks`, whose rows are inserted in the create
 * transaction. When a lock is held, `lockMode: fail` answers 409 naming the
 * holder; `wait` (the default) creates the request PENDING with rows in
 * `request_lock_waits`, and whichever RM records the holder's final state
 * gives the locks to the oldest waiter and starts it. A periodic sweep (on
 * every RM; every step is a conditional write) releases locks of final
 * requests whose release was missed (an RM died) and starts granted waiters.
 */
import { createHash } from 'node:crypto';
import { ConflictError, type RequestArg, State } from '@spincycle/protocol';
import { type Logger, PeriodicTask } from '@spincycle/service-kit';
import type { LockHolder, LockKey, LockStore } from './stores/lock-store.js';
import type { NewRequest, RequestStore } from './stores/request-store.js';

export type { LockHolder, LockKey } from './stores/lock-store.js';

/** What a request type locks, from its spec's `lock` and `lockMode`. */
interface LockSpec {
  lock?: readonly string[];
  lockMode?: string;
}

export interface LockPlan {
  keys: LockKey[];
  mode: 'wait' | 'fail';
}

export interface LocksDeps {
  store: LockStore;
  requests: RequestStore;
  /** The spec keys of a request type. */
  specOf: (type: string) => LockSpec | undefined;
  /** Start a PENDING request whose locks were granted; false when it did not start (it FAILed or moved on). */
  startGranted: (requestId: string) => Promise<boolean>;
  logger: Logger;
}

/** The widest stored lock value; longer ones are locked by their digest. */
const VALUE_MAX = 191;

/** `host=a, host=b` for messages. */
function describeLocks(keys: readonly LockKey[]): string {
  return keys.map((k) => `${k.name}=${k.value}`).join(', ');
}

function lockValue(v: unknown): string {
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null');
  return text.length <= VALUE_MAX ? text : `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** A duplicate primary key: the driver's error, or the DatabaseError the request store wraps it in (its cause). */
function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string }; cause?: unknown };
  const code = e?.driverError?.code ?? e?.code ?? '';
  if (code === 'ER_DUP_ENTRY' || code.startsWith('SQLITE_CONSTRAINT')) return true;
  return e?.cause !== undefined && e.cause !== err && isDuplicateKey(e.cause);
}

export class Locks {
  private readonly log: Logger;
  private readonly sweeper: PeriodicTask;
  private readonly kicks = new Set<Promise<void>>();

  constructor(
    private readonly d: LocksDeps,
    private readonly opts: { sweepIntervalMs: number } = { sweepIntervalMs: 5000 },
  ) {
    this.log = d.logger.child({ component: 'locks' });
    this.sweeper = new PeriodicTask({
      intervalMs: opts.sweepIntervalMs,
      run: () => this.sweep(),
      onError: (err) => this.log.warn('lock sweep failed', { error: (err as Error).message }),
    });
  }

  /** The locks a request of `type` with these (resolved) args takes; undefined when its type locks nothing. */
  plan(type: string, args: readonly RequestArg[]): LockPlan | undefined {
    const spec = this.d.specOf(type);
    if (!spec?.lock || spec.lock.length === 0) return undefined;
    const seen = new Set<string>();
    const keys: LockKey[] = [];
    for (const name of spec.lock) {
      const arg = args.find((a) => a.Name === name);
      if (!arg) continue;
      const values = Array.isArray(arg.Value) ? arg.Value : [arg.Value];
      for (const v of values) {
        const key = { name, value: lockValue(v) };
        const id = `${key.name}\u0000${key.value}`;
        if (!seen.has(id)) keys.push(key);
        seen.add(id);
      }
    }
    if (keys.length === 0) return undefined;
    return { keys, mode: spec.lockMode === 'fail' ? 'fail' : 'wait' };
  }

  /**
   * Store a new (RUNNING) request with its locks in one transaction. When a
   * lock is held: `fail` throws a 409 naming the holder; `wait` stores the
   * request PENDING, waiting, and returns the holders (the caller must not
   * send its chain).
   */
  async create(req: NewRequest, plan: LockPlan): Promise<{ waitingFor?: LockHolder[]; stored: NewRequest }> {
    const id = req.row.request_id;
    const at = req.row.created_at;
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = {
          ...req,
          extra: [...(req.extra ?? []), this.d.store.holdStatement(plan.keys, id, at)],
        };
        await this.d.requests.create(stored);
        return { stored };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const holders = (await this.d.store.holders(plan.keys)).filter((h) => h.requestId !== id);
      // Released meanwhile: try again (bounded; a busy lock ends up in the branches below).
      if (holders.length === 0 && attempt < 3) continue;
      const what = `request ${id} of type ${req.row.type} needs lock ${describeLocks(plan.keys)}`;
      const by = holders.map((h) => `${h.name}=${h.value} is held by request ${h.requestId}`).join('; ');
      if (plan.mode === 'fail') throw new ConflictError(`${what}: ${by || 'it is held'} (lockMode: fail)`);
      const row = { ...req.row, state: State.PENDING, started_at: null, jr_url: null };
      const stored = {
        ...req,
        row,
        extra: [...(req.extra ?? []), this.d.store.waitStatement(plan.keys, id, at)],
      };
      await this.d.requests.create(stored);
      this.log.info('request waits for a lock', { requestId: id, waitingFor: holders });
      // The holder may have finished between our INSERT and the wait row: look once more.
      this.kick(plan.keys);
      return { waitingFor: holders, stored };
    }
  }

  /** The holders of the locks `requestId` waits for (empty when it waits for none): for GET and explain. */
  async lockHolderOf(requestId: string): Promise<LockHolder[]> {
    const wants = await this.d.store.waitsOf(requestId);
    if (wants.length === 0) return [];
    return (await this.d.store.holders(wants)).filter((h) => h.requestId !== requestId);
  }

  /** 409 when `requestId` waits for locks: a manual start must not jump the queue. */
  async assertNotWaiting(requestId: string): Promise<void> {
    const wants = await this.d.store.waitsOf(requestId);
    if (wants.length === 0) return;
    const holders = await this.lockHolderOf(requestId);
    const by = holders.map((h) => ` (${h.name}=${h.value} held by request ${h.requestId})`).join('');
    throw new ConflictError(
      `request ${requestId} waits for lock ${describeLocks(wants)}${by}; it starts when the lock is free`,
    );
  }

  /** A request reached a final state: free its locks, then give them to the oldest waiters. */
  async onFinal(requestId: string): Promise<void> {
    const freed = await this.d.store.release(requestId);
    if (freed.length > 0) await this.wake(freed);
  }

  private kick(keys?: readonly LockKey[]): void {
    const p = this.wake(keys).catch((err: unknown) => {
      this.log.warn('could not start lock waiters', { error: (err as Error).message });
    });
    this.kicks.add(p);
    void p.finally(() => this.kicks.delete(p));
  }

  /** Wait for the background wake-ups under way (shutdown, tests). */
  async settle(): Promise<void> {
    while (this.kicks.size > 0) await Promise.all([...this.kicks]);
  }

  /** Grant and start waiters of `keys` (all waiters when undefined), oldest first. */
  async wake(keys?: readonly LockKey[]): Promise<void> {
    for (const id of await this.d.store.waiters(keys)) {
      if (!(await this.d.store.grant(id))) continue;
      this.log.info('lock granted to a waiting request', { requestId: id });
      await this.d.startGranted(id);
    }
  }

  /** One pass of the safety sweep: leaked locks of final requests, waiters whose locks are free, granted requests not started. */
  async sweep(now = new Date()): Promise<void> {
    for (const id of await this.d.store.finalHoldersAndWaiters()) await this.d.store.release(id);
    await this.wake();
    // Granted more than one sweep ago and still PENDING: the RM that granted it died before starting it.
    for (const id of await this.d.store.grantedPending(new Date(now.getTime() - this.opts.sweepIntervalMs)))
      await this.d.startGranted(id);
  }

  start(): void {
    this.sweeper.start();
  }

  async stop(): Promise<void> {
    await this.sweeper.stop();
    await this.settle();
  }
}
