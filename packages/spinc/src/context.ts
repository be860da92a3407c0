/**
 * What a command runs with: the streams (injectable, so tests can run spinc
 * in-process), the resolved options, its arguments and a lazily made client.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { homedir } from 'node:os';
import { ApiError, RmClient } from '@spincycle/protocol';
import { describeApiError, UsageError } from './errors.js';
import { expandHome, type SpincOptions } from './options.js';
import { toJson } from './output.js';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface SpincIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  /** Prompting allowed: defaults to stdin AND stdout being terminals. */
  interactive?: boolean;
  /** Clock, for tests. */
  now?: () => Date;
  /** Home directory for `~/.spinc.yaml` (default: env HOME, then os.homedir()). */
  homeDir?: string;
  /** System config file (default /etc/spinc/spinc.yaml). */
  systemConfigFile?: string;
  /** File reader for config files (default fs.readFileSync as UTF-8). */
  readFile?: (path: string) => string;
  /** Poll interval cap for --wait/wait in ms (default 1000). */
  pollMaxMs?: number;
}

export class Context {
  private rm: RmClient | undefined;

  constructor(
    readonly io: SpincIO,
    readonly opts: SpincOptions,
    /** The command's own arguments (after the command name). */
    readonly args: string[],
    readonly interactive: boolean,
  ) {}

  now(): Date {
    return this.io.now ? this.io.now() : new Date();
  }

  out(line = ''): void {
    this.io.stdout.write(`${line}\n`);
  }

  err(line = ''): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** Values (of secret args) that debug output shows as `[redacted]`, e.g. inside a logged request body. */
  private readonly hidden: string[] = [];

  hideInDebug(values: readonly string[]): void {
    // Also as it appears inside a JSON body.
    for (const v of values) if (v !== '') this.hidden.push(v, JSON.stringify(v).slice(1, -1));
  }

  debug(message: string): void {
    if (!this.opts.debug) return;
    let text = message;
    for (const v of this.hidden) text = text.replaceAll(v, '[redacted]');
    this.io.stderr.write(`DEBUG ${text}\n`);
  }

  /** Print one JSON document on stdout. */
  json(value: unknown): void {
    this.io.stdout.write(`${toJson(value)}\n`);
  }

  get client(): RmClient {
    if (!this.rm) {
      this.rm = new RmClient({
        baseURL: this.opts.addr,
        timeoutMs: this.opts.timeoutMs,
        // A few quick retries ride over an RM restart without making an unreachable RM slow to report.
        retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 1000 },
        headers: this.opts.token ? { Authorization: `Bearer ${this.opts.token}` } : {},
        httpsAgent: this.httpsAgent(),
      });
      if (this.opts.debug) {
        const started = new WeakMap<object, number>();
        this.rm.http.http.interceptors.request.use((config) => {
          started.set(config, Date.now());
          this.debug(
            `${String(config.method).toUpperCase()} ${config.baseURL ?? ''}${config.url ?? ''}${config.data ? ` ${String(config.data)}` : ''}`,
          );
          return config;
        });
        this.rm.http.http.interceptors.response.use(
          (res) => {
            const t0 = started.get(res.config);
            this.debug(
              `HTTP ${res.status} ${t0 === undefined ? '' : `in ${Date.now() - t0} ms`}: ${String(res.data).slice(0, 2000)}`,
            );
            return res;
          },
          (err: unknown) => {
            this.debug(`request failed: ${(err as Error).message}`);
            return Promise.reject(err);
          },
        );
      }
    }
    return this.rm;
  }

  /** An https agent for --ca/--cert/--key (undefined: system roots, no client certificate). */
  private httpsAgent(): HttpsAgent | undefined {
    const { ca, cert, key } = this.opts.tls;
    if (!ca && !cert) return undefined;
    const home = this.io.homeDir ?? this.io.env.HOME ?? homedir();
    const read = (what: 'ca' | 'cert' | 'key', path: string) => {
      try {
        return readFileSync(expandHome(path, home));
      } catch (err) {
        throw new UsageError(
          `cannot read the ${what} file ${path} (from ${this.opts.sources[what]}): ${(err as Error).message}`,
        );
      }
    };
    return new HttpsAgent({
      keepAlive: true,
      ...(ca ? { ca: read('ca', ca) } : {}),
      ...(cert && key ? { cert: read('cert', cert), key: read('key', key) } : {}),
    });
  }

  /** Run an API call, turning an ApiError into the user-facing SpincError. */
  async api<T>(call: (rm: RmClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (err) {
      if (err instanceof ApiError) throw describeApiError(err, this.opts.addr, this.opts.timeoutMs);
      throw err;
    }
  }
}
