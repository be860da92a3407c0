/**
 * Liveness: every few seconds the JR tells the RM (any of `rm_client.url`)
 * its advertised URL and the chains it holds with their running jobs. The RM
 * keeps it in the database; a JR silent past the RM's lease (`jr.lease`) is
 * lost and its RUNNING requests are failed. The answer names the chains the
 * RM no longer counts as running here (finalized while this JR was cut off,
 * say): they are dropped at once — jobs stopped, nothing more sent — so a JR
 * that comes back late never keeps running them.
 *
 * One attempt per beat (the next beat is the retry); the period is the
 * configured one, shortened to a third of the lease the RM announces.
 */
import { randomBytes } from 'node:crypto';
import { type JobRunnerHeartbeat, type JobRunnerHeartbeatReply, toRfc3339 } from '@spincycle/protocol';
import { type Logger, PeriodicTask } from '@spincycle/service-kit';
import type { ChainRegistry } from './registry.js';
import type { Reporter } from './reporter.js';
import { describeRmError } from './rm-errors.js';

export interface HeartbeatSink {
  heartbeat(body: JobRunnerHeartbeat): Promise<JobRunnerHeartbeatReply>;
}

export interface HeartbeatOptions {
  intervalMs: number;
  /** The advertised base URL (known once the server listens). */
  baseUrl: () => string;
}

export class Heartbeat {
  /** This process's id: a restart on the same URL is a new instance. */
  readonly instance = randomBytes(8).toString('hex');
  private readonly startedAt = toRfc3339(new Date());
  private readonly loop: PeriodicTask;
  private failures = 0;
  private leaseMs = 0;
  /** Beats answered so far (for tests). */
  beats = 0;

  constructor(
    private readonly sink: HeartbeatSink,
    private readonly registry: ChainRegistry,
    private readonly reporter: Pick<Reporter, 'forget'>,
    private readonly logger: Logger,
    private readonly opts: HeartbeatOptions,
  ) {
    this.loop = new PeriodicTask({
      intervalMs: () => this.intervalMs,
      firstDelayMs: 0,
      run: () => this.beat(),
      onError: (err) => this.logger.error('heartbeat failed', { error: String(err) }),
    });
  }

  /** The period in use: the configured one, at most a third of the RM's lease. */
  get intervalMs(): number {
    return this.leaseMs > 0
      ? Math.max(100, Math.min(this.opts.intervalMs, Math.floor(this.leaseMs / 3)))
      : this.opts.intervalMs;
  }

  /** First beat at once, then every interval. */
  start(): void {
    this.loop.start();
  }

  /** Send one heartbeat now (also used at shutdown to say "draining"). */
  async beat(): Promise<void> {
    const body: JobRunnerHeartbeat = {
      jrURL: this.opts.baseUrl(),
      instance: this.instance,
      startedAt: this.startedAt,
      draining: this.registry.draining,
      requests: this.registry.held(),
    };
    let reply: JobRunnerHeartbeatReply;
    try {
      reply = await this.sink.heartbeat(body);
    } catch (err) {
      this.failures++;
      if (this.failures === 1 || this.failures % 10 === 0)
        this.logger.warn('heartbeat to the RM failed', {
          error: describeRmError(err),
          failures: this.failures,
        });
      return;
    }
    if (this.failures > 0) this.logger.info('heartbeat to the RM works again', { failures: this.failures });
    this.failures = 0;
    this.beats++;
    if (reply.leaseMs > 0) this.leaseMs = reply.leaseMs;
    for (const id of reply.drop) {
      // Forget first, so nothing the stopping jobs log is sent.
      this.reporter.forget(id);
      this.registry.drop(
        id,
        'the RM no longer counts the request as running on this Job Runner (finalized, e.g. as lost)',
      );
    }
  }

  /** Stop beating; resolves once a periodic beat in flight has ended. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
