/**
 * What Kubernetes does to the pods of the manifests, as processes on one machine: a pod is
 * a `node` process started from its PodPlan; the kubelet probes readiness and liveness on the
 * manifest's paths and periods; a pod gets traffic (is an endpoint of its Service) only while
 * ready and not terminating; termination is the preStop command, SIGTERM, up to
 * terminationGracePeriodSeconds (counted from the start of preStop), then SIGKILL. A Deployment
 * scales and rolls (surge first, as maxSurge/maxUnavailable allow) like the controller does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/system.js';
import {
  type Manifests,
  type PodContext,
  type PodPlan,
  type ProbePlan,
  planPod,
  type Workload,
} from './manifests.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probeOk(port: number, p: ProbePlan): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${p.path}`, {
      signal: AbortSignal.timeout(p.timeoutMs),
    });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 400;
  } catch {
    return false;
  }
}

export interface Termination {
  pod: string;
  exitCode: number | null;
  /** The kubelet had to SIGKILL it: the grace period was too short. */
  killed: boolean;
  /** From the start of preStop to the exit. */
  ms: number;
}

export class Pod {
  readonly proc: ChildProcess;
  readonly startedAt = Date.now();
  readyAt: number | undefined;
  ready = false;
  terminating = false;
  /** Liveness failures that reached failureThreshold (the kubelet would restart the container). */
  readonly livenessKills: number[] = [];
  private readonly out: string[] = [];
  readonly exited: Promise<number | null>;
  private readyWaiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly plan: PodPlan,
    readonly port: number,
  ) {
    this.proc = spawn(process.execPath, plan.argv, {
      cwd: plan.cwd,
      // Only the pod's environment (plus PATH for the preStop command), as in a container.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...plan.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (c: Buffer) => {
      this.out.push(c.toString());
      if (this.out.length > 4000) this.out.splice(0, 2000);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
    void this.readinessLoop();
    void this.livenessLoop();
  }

  get log(): string {
    return this.out.join('');
  }
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
  /** An endpoint of its Service: ready and not terminating. */
  get serving(): boolean {
    return this.ready && !this.terminating && this.alive;
  }

  private async readinessLoop(): Promise<void> {
    const p = this.plan.readiness;
    if (!p) {
      this.setReady(true);
      return;
    }
    await sleep(p.initialDelayMs);
    let failures = 0;
    while (this.alive) {
      if (await probeOk(this.port, p)) {
        failures = 0;
        this.setReady(true);
      } else if (++failures >= p.failureThreshold) this.setReady(false);
      await sleep(p.periodMs);
    }
    this.setReady(false);
  }

  private setReady(ready: boolean): void {
    if (ready && !this.ready) {
      this.readyAt ??= Date.now();
      for (const w of this.readyWaiters.splice(0)) w();
    }
    this.ready = ready;
  }

  private async livenessLoop(): Promise<void> {
    const p = this.plan.liveness;
    if (!p) return;
    await sleep(p.initialDelayMs);
    let failures = 0;
    while (this.alive && !this.terminating) {
      if (await probeOk(this.port, p)) failures = 0;
      else if (++failures >= p.failureThreshold) {
        this.livenessKills.push(Date.now());
        failures = 0;
      }
      await sleep(p.periodMs);
    }
  }

  /** Resolves once the readiness probe has answered 200; rejects if the process exits first. */
  whenReady(timeoutMs = 60_000): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.log.slice(-3000)}`)),
        timeoutMs,
      );
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
      void this.exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`${this.name} exited (${code}) before it was ready:\n${this.log.slice(-3000)}`));
      });
    });
  }

  /** Kubernetes' pod termination: out of the endpoints at once, preStop, SIGTERM, SIGKILL at the grace period. */
  async terminate(): Promise<Termination> {
    this.terminating = true;
    const t0 = Date.now();
    const deadline = t0 + this.plan.graceMs;
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      this.proc.kill('SIGKILL');
    }, this.plan.graceMs);
    if (this.plan.preStop) {
      const [cmd, ...args] = this.plan.preStop as [string, ...string[]];
      const hook = spawn(cmd, args, { stdio: 'ignore' });
      // The hook runs at most until the grace period ends.
      await Promise.race([
        new Promise((r) => hook.once('exit', r)),
        sleep(Math.max(0, deadline - Date.now())),
      ]);
      hook.kill('SIGKILL');
    }
    if (this.alive) this.proc.kill('SIGTERM');
    const exitCode = await this.exited;
    clearTimeout(killer);
    return { pod: this.name, exitCode, killed, ms: Date.now() - t0 };
  }
}

/** A Deployment (or a Job's single run) of one workload of the manifests. */
export class Deployment {
  readonly pods: Pod[] = [];
  readonly terminations: Termination[] = [];
  readonly everStarted: Pod[] = [];
  private seq = 0;

  constructor(
    private readonly m: Manifests,
    readonly w: Workload,
    private readonly ctx: Omit<PodContext, 'dir' | 'port'>,
  ) {}

  /** Start one pod (not waiting for it to be ready). */
  async startPod(): Promise<Pod> {
    const port = await freePort();
    const name = `${this.w.name}-${++this.seq}`;
    const dir = mkdtempSync(join(tmpdir(), `${name}-`));
    const pod = new Pod(name, planPod(this.m, this.w, { ...this.ctx, dir, port }), port);
    this.pods.push(pod);
    this.everStarted.push(pod);
    return pod;
  }

  /** Endpoints of the Service that selects these pods. */
  endpoints(): number[] {
    return this.pods.filter((p) => p.serving).map((p) => p.port);
  }

  async terminate(pod: Pod): Promise<Termination> {
    this.pods.splice(this.pods.indexOf(pod), 1);
    const t = await pod.terminate();
    this.terminations.push(t);
    return t;
  }

  /** Scale to n: new pods started together and awaited ready; removed pods (newest first) terminated together. */
  async scale(n: number): Promise<Pod[]> {
    const added: Pod[] = [];
    while (this.pods.length < n) added.push(await this.startPod());
    const removed = this.pods.slice(n).reverse();
    await Promise.all([...added.map((p) => p.whenReady()), ...removed.map((p) => this.terminate(p))]);
    return added;
  }

  /**
   * Replace `old` pods one at a time as the Deployment controller does with maxUnavailable 0:
   * a surge pod first, and once it is ready the old pod terminates (the rollout goes on meanwhile).
   */
  async rollingReplace(old: Pod[] = [...this.pods]): Promise<void> {
    if (this.w.maxSurge < 1 || this.w.maxUnavailable > 0)
      throw new Error(`${this.w.name}: only maxSurge ≥ 1 with maxUnavailable 0 is emulated`);
    const stopping: Promise<Termination>[] = [];
    for (const pod of old) {
      const next = await this.startPod();
      await next.whenReady();
      stopping.push(this.terminate(pod));
    }
    await Promise.all(stopping);
  }

  /** SIGKILL every pod (test teardown). */
  async killAll(): Promise<void> {
    for (const p of this.pods.splice(0)) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
  }
}
