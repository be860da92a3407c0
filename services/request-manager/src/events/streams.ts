/**
 * Server-Sent Events of one request (`GET /api/v1/requests/{id}/events`), read
 * from the database every `pollMs` per open stream: `log` (a job-log entry as
 * the job-log endpoint gives it), `progress`, `state`, and `final`, after which
 * the stream ends. Each event's `id` is the cursor after it (cursor.ts), so a
 * client that reconnects with `Last-Event-ID` gets only what came later, from
 * any RM. Bounded: at most `maxStreams` open per RM (503 beyond), each open
 * at most `maxDurationMs` (the client then reconnects), a `: ping` comment when
 * nothing was written for `keepAliveMs` (idle proxies drop quiet connections).
 */
import { isFinalState, NotFoundError, stringifyJson, UnavailableError } from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import type { Response } from 'express';
import { type Authorizer, type Caller, requireAuthorized } from '../auth.js';
import type { RequestRow } from '../db/entities.js';
import { errorMessage } from '../request-errors.js';
import { toWireRequest } from '../stores/request-rows.js';
import { type EventCursor, formatCursor } from './cursor.js';
import type { EventReader } from './event-reader.js';

export interface EventStreamOptions {
  pollMs: number;
  keepAliveMs: number;
  maxStreams: number;
  maxDurationMs: number;
  /** Job-log entries read per poll at most. */
  batch?: number;
}

/** Reconnect delay the client is told (`retry:`), ms. */
const RECONNECT_MS = 3000;

export class EventStreams {
  private readonly open = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly reader: EventReader,
    private readonly opts: EventStreamOptions,
    private readonly log: Logger,
    /** Who may read which request (the `read` op, as `GET /requests/{id}`); absent: everyone. */
    private readonly authorizer?: Authorizer,
  ) {}

  /** Open streams now. */
  get size(): number {
    return this.open.size;
  }

  /** End every open stream (the RM is closing) and refuse new ones. */
  closeAll(): void {
    this.closed = true;
    for (const stop of [...this.open]) stop();
  }

  /**
   * Serve one stream. Errors before the first byte (404, 503, a bad cursor)
   * are thrown for the HTTP edge to answer; later ones end the stream.
   */
  async serve(res: Response, caller: Caller, requestId: string, cursor: EventCursor): Promise<void> {
    if (this.closed || this.open.size >= this.opts.maxStreams)
      throw new UnavailableError(
        `too many open event streams on this Request Manager (events.max_streams ${this.opts.maxStreams}); try again later or poll GET /api/v1/requests/${requestId}`,
      );
    const batch = this.opts.batch ?? 500;
    const first = await this.reader.since(requestId, cursor.logSeq, batch);
    if (!first.row) throw new NotFoundError(`request ${requestId} not found`);
    if (this.authorizer) await requireAuthorized(this.authorizer, caller, 'read', toWireRequest(first.row));
    if (first.entries.length === 0 && isFinalState(first.row.state) && first.row.state === cursor.state) {
      // Nothing after the final event the client already has: 204 tells it not to reconnect.
      res.status(204).end();
      return;
    }
    const s = new Stream(res, requestId, { ...cursor }, this.opts, batch, this.reader);
    const stop = () => s.stop();
    this.open.add(stop);
    try {
      await s.run(first);
    } catch (err) {
      this.log.warn('event stream ended on an error', { requestId, error: errorMessage(err) });
    } finally {
      this.open.delete(stop);
      s.end();
    }
  }
}

class Stream {
  private stopped = false;
  private wake: (() => void) | undefined;
  private lastWrite = Date.now();

  constructor(
    private readonly res: Response,
    private readonly requestId: string,
    private readonly cur: EventCursor,
    private readonly opts: EventStreamOptions,
    private readonly batch: number,
    private readonly reader: EventReader,
  ) {
    res.on('close', () => this.stop());
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  async run(first: Awaited<ReturnType<EventReader['since']>>): Promise<void> {
    const res = this.res;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    await this.write(`retry: ${RECONNECT_MS}\n\n`);
    const until = Date.now() + this.opts.maxDurationMs;
    let changes = first;
    for (;;) {
      if (this.stopped) return;
      if (await this.apply(changes)) return;
      if (!changes.more) {
        if (Date.now() - this.lastWrite >= this.opts.keepAliveMs) await this.write(': ping\n\n');
        if (Date.now() >= until) return; // the client reconnects with its Last-Event-ID
        await this.sleep(Math.min(this.opts.pollMs, until - Date.now()));
        if (this.stopped) return;
      }
      changes = await this.reader.since(this.requestId, this.cur.logSeq, this.batch);
    }
  }

  /** Send what changed; true once `final` was sent. */
  private async apply(ch: Awaited<ReturnType<EventReader['since']>>): Promise<boolean> {
    const row = ch.row;
    if (!row) return true; // deleted: nothing more will come
    for (const e of ch.entries) {
      this.cur.logSeq = e.seq;
      await this.send('log', e.json);
    }
    if (ch.more) return false;
    if (Number(row.finished_jobs) !== this.cur.finishedJobs) {
      this.cur.finishedJobs = Number(row.finished_jobs);
      await this.send(
        'progress',
        stringifyJson({
          requestId: this.requestId,
          finishedJobs: row.finished_jobs,
          totalJobs: row.total_jobs,
        }),
      );
    }
    const state = Number(row.state);
    const final = isFinalState(state);
    if (state !== this.cur.state || final) {
      this.cur.state = state;
      await this.send(final ? 'final' : 'state', summary(row));
    }
    return final;
  }

  private send(event: string, json: string): Promise<void> {
    return this.write(`id: ${formatCursor(this.cur)}\nevent: ${event}\ndata: ${json}\n\n`);
  }

  /** Write, waiting for the socket to drain when it is full (a slow client is not buffered without bound). */
  private async write(text: string): Promise<void> {
    if (this.stopped || this.res.writableEnded) return;
    this.lastWrite = Date.now();
    if (this.res.write(text)) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.res.once('drain', resolve);
    });
    this.wake = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/** The request without args or chain, as `state` and `final` carry it. */
function summary(row: RequestRow): string {
  return stringifyJson(toWireRequest(row));
}
