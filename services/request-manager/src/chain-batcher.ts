/**
 * New chains bound for one Job Runner, sent in as few calls as load allows
 * (a MicroBatcher): a chain goes at once when no call to that JR is under
 * way; chains that come while one is go together in the next call
 * (`POST /api/v1/job-chains/batch`). Under load the RM and the JR pay one HTTP
 * exchange for several chains; a lone chain goes alone, as before, to
 * `POST /api/v1/job-chains`.
 *
 * Each chain settles as the single call would have: with the JR's base URL,
 * or with an ApiError carrying the status the JR gave that chain (400, 409,
 * 503) or the error of the whole call (network, 5xx after the client's
 * retries). A JR without the batch endpoint (404/405) gets chains one by one
 * from then on.
 */
import { ApiError, type JrClient, RawJson } from '@spincycle/protocol';
import { MicroBatcher, type Settled } from '@spincycle/service-kit';

export interface ChainBatcherOptions {
  /** Calls under way at once to this JR (default 1). */
  maxInFlight?: number;
  /** Most chains in one call (default 64). */
  maxChains?: number;
  /** Most bytes of chain JSON in one call; a larger chain still goes, alone (default 1 MiB). */
  maxBytes?: number;
}

export class ChainBatcher {
  private readonly batcher: MicroBatcher<string, string>;
  private batchUnsupported = false;

  constructor(
    readonly jr: JrClient,
    opts: ChainBatcherOptions = {},
  ) {
    this.batcher = new MicroBatcher({
      run: (chains) => this.dispatch(chains),
      maxInFlight: opts.maxInFlight ?? 1,
      maxItems: opts.maxChains ?? 64,
      sizeOf: (json) => json.length,
      maxSize: opts.maxBytes ?? 1024 * 1024,
    });
  }

  /** Send a chain (its JSON text); resolves with the base URL of the JR that took it. */
  send(chainJson: string): Promise<string> {
    return this.batcher.submit(chainJson);
  }

  private async dispatch(chains: string[]): Promise<Settled<string>[]> {
    if (chains.length === 1 || this.batchUnsupported) {
      return Promise.all(
        chains.map((json) =>
          this.jr.startChain(new RawJson(json)).then(
            (a): Settled<string> => ({ ok: true, value: a.jrURL }),
            (error: unknown): Settled<string> => ({ ok: false, error }),
          ),
        ),
      );
    }
    let answer: Awaited<ReturnType<JrClient['startChains']>>;
    try {
      answer = await this.jr.startChains(chains);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        this.batchUnsupported = true;
        return this.dispatch(chains);
      }
      throw err;
    }
    return answer.results.map((r): Settled<string> => {
      if (r.status >= 200 && r.status < 300) return { ok: true, value: answer.jrURL };
      const message = r.message ?? `POST ${this.jr.baseURL}/api/v1/job-chains/batch: HTTP ${r.status}`;
      return { ok: false, error: new ApiError(message, r.status, r) };
    });
  }
}
