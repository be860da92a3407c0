/**
 * The position of a client in a request's event stream, carried as the SSE `id`
 * (and sent back as `Last-Event-ID` or `?after=`): the storage sequence of the
 * last job-log entry sent, then the request state and finished-job count last
 * sent. Everything in it comes from stored rows, so any RM can resume a stream
 * another RM served. Job-log sequences only grow, so ids rise as a stream goes on.
 */
import { ValidationError } from '@spincycle/protocol';

export interface EventCursor {
  /** Storage sequence of the last job-log entry sent (0: none yet). */
  logSeq: string;
  /** Request state last sent (-1: none yet). */
  state: number;
  /** `finishedJobs` last sent (-1: none yet). */
  finishedJobs: number;
}

const START: EventCursor = Object.freeze({ logSeq: '0', state: -1, finishedJobs: -1 });

export function formatCursor(c: EventCursor): string {
  return `${c.logSeq}.${c.state}.${c.finishedJobs}`;
}

/** `Last-Event-ID` (or `?after=`) as a cursor; absent or empty → the start; malformed → 400. */
export function parseCursor(value: string | undefined, field: string): EventCursor {
  if (value === undefined || value.trim() === '') return START;
  const m = /^(0|[1-9]\d{0,19})\.(-1|\d{1,3})\.(-1|\d{1,9})$/.exec(value.trim());
  if (!m)
    throw new ValidationError(
      `${field} '${value.slice(0, 60)}' is not an event id of this stream (expected <log>.<state>.<finishedJobs>, as sent in 'id:')`,
      field,
    );
  return { logSeq: m[1] as string, state: Number(m[2]), finishedJobs: Number(m[3]) };
}
