/**
 * Error classes shared by the services, the chain builder and the clients.
 * Each has one meaning and a fixed HTTP status; the services map them to
 * responses in exactly one place (service-kit's error middleware).
 */

const MARK = Symbol.for('spincycle.error');

/** Base class. `instanceof` works across duplicate copies of this package. */
export class SpinCycleError extends Error {
  readonly httpStatus: number = 500;
  /** Stable machine-readable code. */
  readonly code: string = 'internal';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    (this as unknown as Record<symbol, boolean>)[MARK] = true;
  }
  // `this` is the class on the right of `instanceof` (a subclass too), so it cannot be spelled as SpinCycleError.
  // biome-ignore-start lint/complexity/noThisInStatic: see above
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (!(value instanceof Error) || !(value as unknown as Record<symbol, boolean>)[MARK]) return false;
    if (this === SpinCycleError) return true;
    // Compare by class name along the prototype chain so that copies still match.
    for (let p = Object.getPrototypeOf(value); p; p = Object.getPrototypeOf(p)) {
      if (p.constructor?.name === this.name) return true;
    }
    return false;
  }
  // biome-ignore-end lint/complexity/noThisInStatic: see above
}

/** Thrown for input a caller sent that cannot be accepted (HTTP 400). */
export class BadRequestError extends SpinCycleError {
  override readonly httpStatus: number = 400;
  override readonly code: string = 'bad_request';
}

/** Thrown when a payload fails DTO validation; `field` names the bad field (HTTP 400). */
export class ValidationError extends BadRequestError {
  override readonly code: string = 'validation';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Thrown when authentication fails or authorization denies an operation (HTTP 401, as the original). */
export class UnauthorizedError extends SpinCycleError {
  override readonly httpStatus: number = 401;
  override readonly code: string = 'unauthorized';
}

/** Thrown when an authenticated caller may not act on this object, e.g. a Job Runner reporting for another one's request (HTTP 403). */
export class ForbiddenError extends SpinCycleError {
  override readonly httpStatus: number = 403;
  override readonly code: string = 'forbidden';
}

/** Thrown when a request, job or chain does not exist (HTTP 404). */
export class NotFoundError extends SpinCycleError {
  override readonly httpStatus: number = 404;
  override readonly code: string = 'not_found';
}

/** Thrown when an object is not in the state an operation needs (HTTP 409). */
export class InvalidStateError extends SpinCycleError {
  override readonly httpStatus: number = 409;
  override readonly code: string = 'invalid_state';
}

/** Thrown when something already exists (HTTP 409). */
export class ConflictError extends SpinCycleError {
  override readonly httpStatus: number = 409;
  override readonly code: string = 'conflict';
}

/** Thrown while a service drains before exit (HTTP 503). */
export class ShuttingDownError extends SpinCycleError {
  override readonly httpStatus: number = 503;
  override readonly code: string = 'shutting_down';
}

/** Thrown when a bounded resource (e.g. open event streams) is used up for now (HTTP 503). */
export class UnavailableError extends SpinCycleError {
  override readonly httpStatus: number = 503;
  override readonly code: string = 'unavailable';
}

/** Thrown when a caller exceeds a rate limit (HTTP 429); the answer's Retry-After is `retryAfterSeconds`. */
export class TooManyRequestsError extends SpinCycleError {
  override readonly httpStatus: number = 429;
  override readonly code: string = 'too_many_requests';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Thrown when a service we depend on (a JR, the RM, an identity provider's JWKS) fails or cannot be reached (HTTP 502). */
export class UpstreamError extends SpinCycleError {
  override readonly httpStatus: number = 502;
  override readonly code: string = 'upstream';
}

/**
 * Thrown by the typed clients when a call ends in an HTTP error status or a
 * network failure after all retries. `status` is undefined for network errors.
 */
export class ApiError extends SpinCycleError {
  override readonly code: string = 'api';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** The server's `message` field when it sent one. */
  get serverMessage(): string | undefined {
    const b = this.body as { message?: unknown } | undefined;
    return b && typeof b.message === 'string' ? b.message : undefined;
  }
}
