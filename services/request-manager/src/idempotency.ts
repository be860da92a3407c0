/**
 * Idempotent create (`Idempotency-Key` on POST /api/v1/requests, after the
 * IETF Idempotency-Key draft). The key is stored per user in the database
 * BEFORE the create runs: the first INSERT wins on any RM, so two RMs never
 * both create. A repeat with the same body answers the first request; a
 * different body is 422; a repeat while the first is still being created is
 * 409. A create that fails (4xx or 5xx) releases the key, so the client may
 * fix and resend: the RM answers 5xx only when the request is not running
 * (nothing stored, or stored and finalized FAIL because no JR took it).
 */
import { createHash } from 'node:crypto';
import {
  ConflictError,
  type CreateRequest,
  type Request,
  SpinCycleError,
  ValidationError,
} from '@spincycle/protocol';
import type { Logger } from '@spincycle/service-kit';
import type { Caller } from './auth.js';
import { IDEMPOTENCY_IN_PROGRESS, type IdempotencyStore } from './stores/idempotency-store.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_KEY_MAX = 255;
/** An in-progress key older than this belongs to a create whose RM died: it is released. */
export const IN_PROGRESS_ABANDONED_MS = 5 * 60_000;
/** Expired keys deleted per purge, and the least time between purges on one RM. */
const PURGE_BATCH = 100;
const PURGE_EVERY_MS = 60_000;

/** The same key was used with another body (HTTP 422). */
export class IdempotencyKeyMismatchError extends SpinCycleError {
  override readonly httpStatus: number = 422;
  override readonly code: string = 'idempotency_key_mismatch';
}

/**
 * The key of an `Idempotency-Key` header value: a Structured Field string
 * (`"…"`) or the bare text; 1–255 printable ASCII characters. Undefined when
 * the header is absent; a 400 naming the header when it is malformed.
 */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  if (key === '') throw new ValidationError(`${IDEMPOTENCY_HEADER} must not be empty`, IDEMPOTENCY_HEADER);
  if (key.length > IDEMPOTENCY_KEY_MAX)
    throw new ValidationError(
      `${IDEMPOTENCY_HEADER} is ${key.length} characters long, more than ${IDEMPOTENCY_KEY_MAX}`,
      IDEMPOTENCY_HEADER,
    );
  if (!/^[\x20-\x7e]+$/.test(key))
    throw new ValidationError(
      `${IDEMPOTENCY_HEADER} must be printable ASCII characters only`,
      IDEMPOTENCY_HEADER,
    );
  return key;
}

/** JSON with object keys sorted at every level, so equal bodies hash equal however their keys were ordered. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** sha256 (hex) of the create body as the RM understood it (type and args). */
export function bodyHash(body: CreateRequest): string {
  return createHash('sha256')
    .update(canonicalJson({ type: body.type, args: body.args }))
    .digest('hex');
}

export interface IdempotentResult {
  request: Request;
  /** True when this answers an earlier create (nothing new was created). */
  replayed: boolean;
}

export class Idempotency {
  private lastPurge = 0;
  private readonly log: Logger;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly ttlMs: number,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'idempotency' });
  }

  /**
   * Run `create` once per (caller, key) within the TTL; a repeat is answered
   * by `replay(requestId)` of the first request.
   */
  async create(
    caller: Caller,
    key: string,
    body: CreateRequest,
    create: () => Promise<Request>,
    replay: (requestId: string) => Promise<Request>,
  ): Promise<IdempotentResult> {
    const user = caller.name;
    const hash = bodyHash(body);
    this.maybePurge();
    let claimed = false;
    for (let attempt = 0; attempt < 4 && !claimed; attempt++) {
      const now = new Date();
      claimed = await this.store.claim(user, key, hash, now);
      if (claimed) break;
      const row = await this.store.get(user, key);
      // Gone between the two statements (released or purged): claim again.
      if (!row) continue;
      const age = now.getTime() - row.createdAt.getTime();
      const abandoned = row.state === IDEMPOTENCY_IN_PROGRESS && age > IN_PROGRESS_ABANDONED_MS;
      if (age > this.ttlMs || abandoned) {
        // Expired: the key counts as new.
        await this.store.dropIfOlder(user, key, row.createdAt);
        continue;
      }
      if (row.bodyHash !== hash)
        throw new IdempotencyKeyMismatchError(
          `${IDEMPOTENCY_HEADER} '${key}' was already used with a different request body`,
        );
      if (row.state === IDEMPOTENCY_IN_PROGRESS || row.requestId === null) break;
      return { request: await replay(row.requestId), replayed: true };
    }
    if (!claimed)
      throw new ConflictError(
        `a request with ${IDEMPOTENCY_HEADER} '${key}' is still being created; retry later`,
      );
    let created: Request;
    try {
      created = await create();
    } catch (err) {
      await this.store
        .release(user, key)
        .catch((e: unknown) => this.log.warn('could not release an idempotency key', { error: String(e) }));
      throw err;
    }
    await this.store.markDone(user, key, created.id);
    return { request: created, replayed: false };
  }

  /** Delete one small batch of expired keys, at most once a minute per RM, off the caller's path. */
  private maybePurge(): void {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    void this.purgeExpired(new Date(now)).catch((err: unknown) =>
      this.log.warn('purging expired idempotency keys failed', { error: String(err) }),
    );
  }

  /** Delete up to one batch of keys older than the TTL; returns how many went. */
  purgeExpired(now = new Date()): Promise<number> {
    return this.store.purge(new Date(now.getTime() - this.ttlMs), PURGE_BATCH);
  }
}
