/**
 * Job Runner liveness, shared through the database so that any RM can serve
 * any JR: every JR sends a heartbeat every few seconds (`PUT
 * /api/v1/job-runners/heartbeat`) naming its advertised URL and the chains it
 * holds; the RM that receives it stores it in `job_runners` and answers with
 * the chains the JR must drop because they are no longer RUNNING there (for
 * instance finalized as lost while the JR was cut off). The sweeper
 * (sweeper.ts) reads these rows to find lost JRs; the JR pool reads them to
 * send new chains to live JRs.
 */
import {
  ForbiddenError,
  type HeldChain,
  type JobRunnerHeartbeat,
  type JobRunnerHeartbeatReply,
  type JobRunnerInfo,
  parseRfc3339,
  State,
  stringifyJson,
  toRfc3339,
  toRfc3339OrNull,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import type { LiveSnapshot } from './jr-pool.js';
import type { FinalizeLost } from './request-lifecycle.js';
import type { JobRunnerRow, JrStore } from './stores/jr-store.js';
import type { RequestStore } from './stores/request-store.js';

export interface LivenessDeps {
  requests: RequestStore;
  jrStore: JrStore;
  logger: Logger;
  /** This RM's instance id (recorded with the heartbeat, for operators). */
  rmHost: string;
  /** Fails a request whose JR was lost; without it, restarts wait for the sweeper. */
  finalizeLost?: FinalizeLost;
}

/**
 * The chains a JR lost by restarting on the same address: those its previous
 * process held at its last heartbeat and the new process does not hold. Only
 * when that is certain: the previous process was another instance, it did not
 * announce a shutdown (a draining JR hands its chains back, and one may already
 * be resumed on the new process), and it was last heard of before the new
 * process started (two live processes wrongly advertising one URL never count).
 */
function chainsLostByRestart(
  prev: Pick<JobRunnerRow, 'instance' | 'draining' | 'last_seen' | 'held'> | undefined,
  hb: Pick<JobRunnerHeartbeat, 'instance' | 'startedAt' | 'requests'>,
): HeldChain[] {
  if (!prev || !restartedAfter(prev, hb)) return [];
  const holds = new Set(hb.requests.map((r) => r.requestId));
  return prev.held.filter((h) => !holds.has(h.requestId));
}

/** The heartbeat comes from a new process that started after the (not stopping) previous one was last heard. */
function restartedAfter(
  prev: Pick<JobRunnerRow, 'instance' | 'draining' | 'last_seen'>,
  hb: Pick<JobRunnerHeartbeat, 'instance' | 'startedAt'>,
): boolean {
  if (prev.instance === '' || hb.instance === '' || prev.instance === hb.instance || prev.draining)
    return false;
  const started = hb.startedAt ? parseRfc3339(hb.startedAt) : undefined;
  return started !== undefined && prev.last_seen.getTime() <= started.getTime();
}

export class JobRunnerLiveness {
  private readonly log: Logger;

  constructor(
    private readonly d: LivenessDeps,
    readonly leaseMs: number,
  ) {
    this.log = d.logger.child({ component: 'liveness' });
  }

  /**
   * Store a heartbeat; answer with the chains the JR must drop. `caller`: the
   * calling JR's URL (auth/internal.ts); a heartbeat naming another URL is
   * refused, so no caller can pass for another JR (and, with a new instance
   * id, have that JR's requests failed as lost by a restart).
   */
  async heartbeat(hb: JobRunnerHeartbeat, caller?: string): Promise<JobRunnerHeartbeatReply> {
    const me = hb.jrURL;
    if (caller !== undefined && caller !== me)
      throw new ForbiddenError(
        `heartbeat for Job Runner ${me} refused: the call comes from Job Runner ${caller}`,
      );
    const ids = hb.requests.map((r) => r.requestId);
    const states = await this.d.requests.statesOf(ids);
    const drop: string[] = [];
    const foreign: Array<{ id: string; jrUrl: string }> = [];
    for (const id of ids) {
      const st = states.get(id);
      // Finished, stopped, failed as lost, suspended or back to PENDING: the JR must not keep running it.
      if (!st || st.state !== State.RUNNING) drop.push(id);
      else if (st.jrUrl !== me && st.jrUrl !== null) foreign.push({ id, jrUrl: st.jrUrl });
    }
    if (foreign.length > 0) {
      const known = await this.d.jrStore.known([...new Set(foreign.map((f) => f.jrUrl))]);
      const heldThere = new Map<string, Set<string>>();
      for (const f of foreign) {
        if (!known.has(f.jrUrl)) {
          // Recorded under a URL that is no JR (a load balancer's): record the JR that really runs it.
          await this.d.requests.patchIf(f.id, State.RUNNING, { jr_url: me }, { jrUrl: f.jrUrl });
          continue;
        }
        // Recorded on another JR. If that JR holds it too, this is a duplicate (a send whose answer
        // was lost, then sent elsewhere): this copy goes. If not, the record is just being moved
        // here (a send that failed over to this JR), so nothing happens.
        let there = heldThere.get(f.jrUrl);
        if (!there) {
          there = new Set((await this.d.jrStore.get(f.jrUrl))?.held.map((h) => h.requestId) ?? []);
          heldThere.set(f.jrUrl, there);
        }
        if (there.has(f.id)) {
          drop.push(f.id);
          this.log.warn('a Job Runner holds a chain that runs on another Job Runner: dropping this copy', {
            requestId: f.id,
            jrURL: me,
            recorded: f.jrUrl,
          });
        }
      }
    }
    const dropped = new Set(drop);
    const held = hb.requests.filter((r) => !dropped.has(r.requestId));
    // The previous row, with the chains it held only when this is a restart (held can be large).
    let prev = this.d.finalizeLost ? await this.d.jrStore.get(me, false) : undefined;
    prev = prev && restartedAfter(prev, hb) ? await this.d.jrStore.get(me) : undefined;
    await this.d.jrStore.put({
      jr_url: me,
      instance: hb.instance,
      started_at: hb.startedAt ? (parseRfc3339(hb.startedAt) ?? null) : null,
      last_seen: new Date(),
      chains: held.length,
      draining: hb.draining,
      heldJson: stringifyJson(held),
      rm_host: this.d.rmHost,
    });
    if (drop.length > 0)
      this.log.warn('told a Job Runner to drop chains that are no longer RUNNING on it', {
        jrURL: me,
        requestIds: drop.slice(0, 20),
        count: drop.length,
      });
    const lost = chainsLostByRestart(prev, hb);
    // In the background: a JR that held thousands of chains must not wait for its heartbeat's answer.
    if (lost.length > 0 && prev) this.track(this.failLostByRestart(me, prev, hb, lost));
    return { drop, leaseMs: this.leaseMs };
  }

  private readonly cleanups = new Set<Promise<void>>();

  private track(p: Promise<void>): void {
    this.cleanups.add(p);
    void p.finally(() => this.cleanups.delete(p));
  }

  /** Resolves when the restart clean-ups started by earlier heartbeats have ended (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.cleanups.size > 0) await Promise.all(this.cleanups);
  }

  /**
   * A JR restarted on the same address (a crash, kill -9, an OOM kill, a host
   * reboot) lost the chains its previous process held: fail them now instead of
   * after a lease of watching (finalizeLost only touches requests still RUNNING
   * there, so a finish that landed meanwhile wins). Never throws: what it cannot
   * fail is logged and left to the sweeper.
   */
  private async failLostByRestart(
    jrUrl: string,
    prev: JobRunnerRow,
    hb: JobRunnerHeartbeat,
    lost: HeldChain[],
  ): Promise<void> {
    const finalize = this.d.finalizeLost;
    if (!finalize) return;
    const since = prev.started_at ? ` (up since ${prev.started_at.toISOString()})` : '';
    const reason = `Job Runner ${jrUrl} was lost: it restarted at ${hb.startedAt} (instance ${prev.instance}${since}, now ${hb.instance}) and its chain went with the old process`;
    let failed = 0;
    for (const h of lost) {
      try {
        if (await finalize(h.requestId, jrUrl, State.FAIL, reason, { explain: true, held: h.jobs })) failed++;
      } catch (err) {
        // The sweeper fails it after a lease instead.
        this.log.error('failing a request of a restarted Job Runner failed', {
          requestId: h.requestId,
          jrURL: jrUrl,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    this.log.warn('a Job Runner restarted on the same address: failed the requests its old process held', {
      jrURL: jrUrl,
      previousInstance: prev.instance,
      instance: hb.instance,
      failed,
      heldBefore: lost.length,
    });
  }

  /** GET /api/v1/job-runners. */
  async list(): Promise<JobRunnerInfo[]> {
    const now = Date.now();
    return (await this.d.jrStore.list()).map((r) => ({
      jrURL: r.jr_url,
      instance: r.instance,
      startedAt: toRfc3339OrNull(r.started_at),
      lastSeen: toRfc3339(r.last_seen),
      chains: r.chains,
      draining: r.draining,
      live: now - r.last_seen.getTime() <= this.leaseMs,
    }));
  }

  /** For the JR pool: which JRs are live and how loaded. */
  async snapshot(): Promise<LiveSnapshot> {
    const now = Date.now();
    const out: LiveSnapshot = new Map();
    for (const r of await this.d.jrStore.list())
      out.set(r.jr_url, {
        live: now - r.last_seen.getTime() <= this.leaseMs,
        draining: r.draining,
        chains: r.chains,
        lastSeen: r.last_seen.getTime(),
      });
    return out;
  }
}
