/**
 * Graceful shutdown with named steps. The first SIGTERM/SIGINT runs the steps
 * in registration order (stop intake first, then drain, then close
 * resources); a second signal exits at once. SIGHUP runs the reload steps
 * (re-read credential files) instead of ending the process, node's default.
 */
import type { Logger } from './logger.js';

/** A named piece of work: a shutdown step, or a reload step (`onReload`). */
export interface NamedStep {
  name: string;
  run: () => Promise<void> | void;
}

/** What one reload did: the steps that ran through and those that failed (and kept the old state). */
export interface ReloadResult {
  reloaded: string[];
  failed: string[];
}

export class ShutdownManager {
  private readonly steps: NamedStep[] = [];
  private readonly reloadSteps: NamedStep[] = [];
  private running: Promise<void> | undefined;
  /** Reloads run one after another, never two at once. */
  private reloads: Promise<unknown> = Promise.resolve();

  constructor(private readonly logger: Logger) {}

  /** Add a step; steps run in the order they were added. */
  register(name: string, run: NamedStep['run']): void {
    if (this.steps.some((s) => s.name === name)) throw new Error(`shutdown step '${name}' registered twice`);
    this.steps.push({ name, run });
  }

  /**
   * Add a reload step, run on SIGHUP (or `reload()`). A step must build the
   * new state completely before swapping it in, and throw, leaving the old
   * one, when it cannot: the error is logged with the step's name, so name it
   * after what it reads (e.g. `auth.tokens_file /etc/spincycle/tokens.yaml`).
   */
  onReload(name: string, run: NamedStep['run']): void {
    if (this.reloadSteps.some((s) => s.name === name))
      throw new Error(`reload step '${name}' registered twice`);
    this.reloadSteps.push({ name, run });
  }

  /** Run every reload step once; a failing step is logged and does not stop the others. Never rejects. */
  reload(reason: string): Promise<ReloadResult> {
    const next = this.reloads.then(() => this.runReload(reason));
    this.reloads = next;
    return next;
  }

  private async runReload(reason: string): Promise<ReloadResult> {
    const result: ReloadResult = { reloaded: [], failed: [] };
    if (this.running) {
      this.logger.info('shutting down: reload skipped', { reason });
      return result;
    }
    for (const step of this.reloadSteps) {
      try {
        await step.run();
        result.reloaded.push(step.name);
      } catch (err) {
        result.failed.push(step.name);
        this.logger.error('reload failed, the old one stays in use', {
          step: step.name,
          error: (err as Error).message,
        });
      }
    }
    if (this.reloadSteps.length === 0) this.logger.info('nothing to reload', { reason });
    else if (result.reloaded.length > 0) this.logger.info('reloaded', { reason, reloaded: result.reloaded });
    return result;
  }

  get isShuttingDown(): boolean {
    return this.running !== undefined;
  }

  /** Run every step once (later calls return the same promise). */
  shutdown(reason: string): Promise<void> {
    this.running ??= (async () => {
      this.logger.info('shutting down', { reason });
      for (const step of this.steps) {
        const t0 = Date.now();
        try {
          await step.run();
          this.logger.info('shutdown step done', { step: step.name, ms: Date.now() - t0 });
        } catch (err) {
          this.logger.error('shutdown step failed', { step: step.name, error: (err as Error).message });
        }
      }
    })();
    return this.running;
  }

  /**
   * Install SIGTERM/SIGINT handlers that shut down and exit 0 (a second signal
   * exits 1 at once), and a SIGHUP handler that runs the reload steps.
   */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.running) {
        this.logger.warn('second signal, exiting now', { signal });
        process.exit(1);
      }
      void this.shutdown(signal).then(() => process.exit(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', (signal) => void this.reload(signal));
  }
}
