/**
 * Exit codes and the errors that carry them. Every failure of a command ends
 * as one SpincError; main turns it into a one-line `spinc: …` message on
 * stderr and the exit code, never a stack trace (unless --debug).
 */
import type { ApiError } from '@spincycle/protocol';

export const ExitCode = {
  OK: 0,
  /** The API answered with an error, or the operation failed/was aborted. */
  ERROR: 1,
  /** Bad flags, unknown command/request/arg, bad filter, missing args when not interactive. */
  USAGE: 2,
  /** The Request Manager could not be reached or did not answer in time. */
  UNREACHABLE: 3,
  /** `start --wait` / `wait`: the request ended FAIL. */
  FAIL: 4,
  /** `start --wait` / `wait`: the request ended STOPPED. */
  STOPPED: 5,
  /** Interrupted with ctrl-c at a prompt (128 + SIGINT, as shells do). */
  INTERRUPTED: 130,
} as const;

export class SpincError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.ERROR,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line is wrong; exit 2. */
export class UsageError extends SpincError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

/** Exit with a code and no message (e.g. `running` for a finished request). */
export class SilentExit extends SpincError {
  constructor(exitCode: number) {
    super('', exitCode);
  }
}

function causeCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === 'string' && e.code !== 'api') return e.code;
  }
  return undefined;
}

/** What went wrong in a TLS handshake, and which option fixes it; undefined when `code` is no TLS error. */
export function describeTlsFailure(code: string, detail: string): string | undefined {
  if (!/CERT|SSL|TLS|EPROTO|SELF_SIGNED|UNABLE_TO_|HOSTNAME|IP_MISMATCH/i.test(code)) return undefined;
  // OpenSSL's texts look like `8000...:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert ...:../deps/...`.
  const clean = detail.replace(/^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:/, '').replace(/:\.\.?\/.*$/, '');
  if (/CERTIFICATE_REQUIRED/i.test(code))
    return 'it requires a client certificate (set --cert and --key, or SPINC_CERT and SPINC_KEY)';
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/i.test(code))
    return `cannot verify its certificate: ${clean} (set --ca or SPINC_CA to the CA that signed it)`;
  if (/ALTNAME|HOSTNAME|IP_MISMATCH/i.test(code))
    return `its certificate does not match the address: ${clean} (check --addr)`;
  return `${clean} (check --ca, --cert and --key, or SPINC_CA, SPINC_CERT and SPINC_KEY)`;
}

/**
 * The message for an API failure, as the original spinc words it
 * (docs/compatibility.md#spinc), and our exit code: 3 when there was no HTTP answer at all.
 */
export function describeApiError(err: ApiError, addr: string, timeoutMs: number): SpincError {
  if (err.status === undefined) {
    const code = causeCode(err.cause);
    const detail = (err.cause as Error | undefined)?.message ?? err.message;
    const tls = code === undefined ? undefined : describeTlsFailure(code, detail);
    if (tls !== undefined)
      return new SpincError(`TLS with the Request Manager at ${addr} failed: ${tls}`, ExitCode.UNREACHABLE, {
        cause: err,
      });
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(detail)) {
      return new SpincError(
        `Request Manager at ${addr} did not answer within ${timeoutMs} ms (raise it with --timeout or SPINC_TIMEOUT)`,
        ExitCode.UNREACHABLE,
        { cause: err },
      );
    }
    return new SpincError(
      `cannot reach the Request Manager at ${addr}: ${detail} (check --addr or SPINC_ADDR)`,
      ExitCode.UNREACHABLE,
      { cause: err },
    );
  }
  const status = err.status;
  const body = err.body;
  let message: string;
  if (body === undefined || body === null || body === '') {
    message = `no response from API, check logs (HTTP status ${status})`;
  } else if (err.serverMessage !== undefined) {
    message = status === 404 ? err.serverMessage : `API error: ${err.serverMessage} (HTTP status ${status})`;
  } else {
    const raw =
      typeof body === 'string'
        ? body
        : JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    message = `API error: ${raw.trim()} (HTTP status ${status})`;
  }
  return new SpincError(message, ExitCode.ERROR, { cause: err });
}
