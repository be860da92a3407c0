/** How the JR reads a failed call to the RM: retried, refused for good, or a credentials problem. */
import { ApiError } from '@spincycle/protocol';
import { errorText } from '@spincycle/traversal';

/**
 * Whether an error from the RM means "never going to work" (4xx other than
 * timeouts/throttling). 401/403 are not: they say our credentials are wrong
 * (a bad or rotated internal token), which an operator fixes, so what we hold
 * is kept and retried rather than dropped.
 */
export function isRejection(err: unknown): err is ApiError {
  if (!(err instanceof ApiError) || err.status === undefined) return false;
  const s = err.status;
  return s >= 400 && s < 500 && s !== 401 && s !== 403 && s !== 408 && s !== 429;
}

/** A 401/403 from the RM: the JR's credentials are refused. */
export function isAuthFailure(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

/** A failed call for the log: the HTTP status when there is one, and the message. */
export function describeRmError(err: unknown): string {
  if (err instanceof ApiError) return err.status ? `HTTP ${err.status}: ${err.message}` : err.message;
  return errorText(err);
}
