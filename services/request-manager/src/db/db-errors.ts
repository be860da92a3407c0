/**
 * Database failures as typed errors: a driver error becomes a
 * `DatabaseError` (HTTP 503) whose message names the cause and what was being
 * done, so a caller sees "database error: connection lost (ECONNRESET) while
 * storing request …" rather than a bare 500. Only the driver's error code
 * goes into the message (server texts can quote stored values); the whole
 * driver error is kept as the cause, which the HTTP edge logs.
 */
import { SpinCycleError } from '@spincycle/protocol';

/** The database failed or could not be reached (HTTP 503: the request may succeed later). */
class DatabaseError extends SpinCycleError {
  override readonly httpStatus: number = 503;
  override readonly code: string = 'database';
}

const CAUSES: Record<string, string> = {
  ECONNRESET: 'connection lost',
  PROTOCOL_CONNECTION_LOST: 'connection lost',
  EPIPE: 'connection lost',
  ECONNREFUSED: 'database unreachable',
  ETIMEDOUT: 'timed out',
  ER_NET_PACKET_TOO_LARGE: "statement larger than the server's max_allowed_packet",
  ER_LOCK_WAIT_TIMEOUT: 'lock wait timeout',
  ER_LOCK_DEADLOCK: 'deadlock',
  ER_CON_COUNT_ERROR: 'too many connections',
  ER_OPTION_PREVENTS_STATEMENT: 'database is read-only',
  ER_RECORD_FILE_FULL: 'table is full',
  SQLITE_BUSY: 'database is locked',
  SQLITE_FULL: 'disk full',
};

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `err` (from the driver) as a DatabaseError saying what failed `while` doing what; typed errors pass through. */
export function databaseError(err: unknown, doing: string): Error {
  if (err instanceof SpinCycleError) return err;
  const code = codeOf(err);
  const cause = code ? `${CAUSES[code] ?? 'statement failed'} (${code})` : 'statement failed';
  return new DatabaseError(`database error: ${cause} while ${doing}`, { cause: err });
}
