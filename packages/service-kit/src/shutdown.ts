/**
 * Graceful shutdown with named steps. The first SIGTERM/SIGINT runs the steps
 * in registration order (stop intake first, then drain, then close
 * resources); a second signal exits at once.
 */
import type { Logger } from './logger.js';

type Step = { name: string; run: () => Promise<void> | void };

export class ShutdownManager {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Add a step; steps run in the order they were added. */
  register(name: string, run: Step['run']): void {
    if (this.steps.some((s) => s.name === name)) throw new Error(`shutdown step '${name}' registered twice`);
    this.steps.push({ name, run });
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

  /** Install SIGTERM/SIGINT handlers that shut down and exit 0 (a second signal exits 1 at once). */
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
  }
}
