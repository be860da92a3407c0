/**
 * class-validator DTOs for every incoming payload. Each class `implements` its
 * wire interface so the compiler keeps the two in step. Use `validatePayload`
 * (or one of the `parse*` helpers) at the HTTP edge: it throws a ValidationError
 * whose message names the bad field.
 */
import {
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
} from 'class-validator';
import { ValidationError } from './errors.js';
import { toNanos } from './json.js';
import { FINAL_STATES, isStateValue, type StateValue } from './states.js';
import { parseRfc3339 } from './time.js';
import { isPlainObject, toDto, validatePayload } from './validate.js';
import type { CreateRequest, FinishRequest, JobLog, RequestProgress } from './wire.js';

export { validatePayload } from './validate.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const NANOS = (v: unknown) =>
  typeof v === 'bigint' ||
  (typeof v === 'number' && Number.isInteger(v)) ||
  (typeof v === 'string' && /^\d+$/.test(v));

export class CreateRequestDto implements CreateRequest {
  @IsString({ message: 'type must be a string' })
  type!: string;

  @IsOptional()
  @IsObject({ message: 'args must be a JSON object of arg name to value' })
  args!: Record<string, unknown>;
}

export class FinishRequestDto implements FinishRequest {
  @IsOptional()
  @IsString()
  requestId!: string;

  @IsIn([...FINAL_STATES], { message: 'state must be a final state: 3 (COMPLETE), 4 (FAIL) or 6 (STOPPED)' })
  state!: StateValue;

  @IsString()
  @Matches(RFC3339, { message: 'finishedAt must be an RFC 3339 time' })
  finishedAt!: string;

  @IsInt()
  @Min(0)
  finishedJobs!: number;
}

export class RequestProgressDto implements RequestProgress {
  @IsString()
  requestId!: string;

  @IsInt()
  @Min(0)
  finishedJobs!: number;
}

export class JobLogDto implements JobLog {
  @IsOptional()
  @IsString()
  requestId!: string;

  @IsString()
  jobId!: string;

  @IsInt()
  @Min(0)
  try!: number;

  @IsString()
  name!: string;

  @IsString()
  type!: string;

  @IsDefined()
  startedAt!: bigint;

  @IsDefined()
  finishedAt!: bigint;

  @IsInt()
  state!: StateValue;

  @IsOptional()
  @IsNumber()
  exit!: number;

  @IsOptional()
  @IsString()
  error!: string;

  @IsOptional()
  @IsString()
  stdout!: string;

  @IsOptional()
  @IsString()
  stderr!: string;
}

/** Fast path of parseCreateRequest (keys folded, null args dropped): what CreateRequestDto accepts. */
export function isWellFormedCreate(
  folded: Record<string, unknown>,
): folded is { type: string; args?: Record<string, unknown> } {
  return typeof folded.type === 'string' && (folded.args === undefined || isPlainObject(folded.args));
}

/**
 * POST /requests body: keys are matched case-insensitively (the original's Go
 * decoding), so both `{"type":..}` and `{"Type":..}` work.
 */
export function parseCreateRequest(body: unknown): CreateRequestDto {
  if (!isPlainObject(body)) throw new ValidationError('invalid CreateRequest: body must be a JSON object');
  const folded: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const key = k.toLowerCase();
    if (key === 'type' || key === 'args') folded[key] = v;
  }
  if (folded.type === undefined || folded.type === '') {
    throw new ValidationError('Type is empty, must be a request name', 'type');
  }
  if (folded.args === null) folded.args = undefined;
  // Hot path (every create): a well-formed body needs no class-validator pass.
  if (isWellFormedCreate(folded)) {
    return Object.assign(new CreateRequestDto(), { type: folded.type, args: folded.args ?? {} });
  }
  const dto = validatePayload(CreateRequestDto, folded, 'CreateRequest');
  dto.args ??= {};
  return dto;
}

export function parseFinishRequest(body: unknown): FinishRequestDto {
  const dto = validatePayload(FinishRequestDto, body, 'FinishRequest');
  // The pattern takes a few impossible dates (month 13, 25:00): they are no times, and the finish would be stored without one.
  if (!parseRfc3339(dto.finishedAt))
    throw new ValidationError(
      `invalid FinishRequest: field 'finishedAt': finishedAt must be an RFC 3339 time, got '${dto.finishedAt.slice(0, 40)}'`,
      'finishedAt',
    );
  return dto;
}

export function parseRequestProgress(body: unknown): RequestProgressDto {
  return validatePayload(RequestProgressDto, body, 'RequestProgress');
}

const isStr = (v: unknown) => typeof v === 'string';
const isOptStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const isNonNegInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Hot-path check for a well-formed entry (the JR sends thousands per chain).
 * Anything it does not accept goes through the class-validator DTO, which
 * either accepts it or produces the message naming the bad field.
 */
export function isWellFormedJobLog(e: Record<string, unknown>): boolean {
  return (
    isOptStr(e.requestId) &&
    isStr(e.jobId) &&
    isNonNegInt(e.try) &&
    isStr(e.name) &&
    isStr(e.type) &&
    NANOS(e.startedAt) &&
    NANOS(e.finishedAt) &&
    isStateValue(e.state) &&
    (e.exit === undefined || e.exit === null || typeof e.exit === 'number') &&
    isOptStr(e.error) &&
    isOptStr(e.stdout) &&
    isOptStr(e.stderr)
  );
}

function normalizeJobLog<T extends Partial<JobLog>>(dto: T): T {
  dto.startedAt = toNanos(dto.startedAt);
  dto.finishedAt = toNanos(dto.finishedAt);
  dto.exit ??= 0;
  dto.error ??= '';
  dto.stdout ??= '';
  dto.stderr ??= '';
  return dto;
}

/** Job log entry; nanosecond fields may be JSON integers (any size) or decimal strings. */
export function parseJobLog(body: unknown): JobLogDto {
  if (isPlainObject(body) && isWellFormedJobLog(body))
    return normalizeJobLog(toDto(JobLogDto.prototype, body));
  const dto = validatePayload(JobLogDto, body, 'JobLog');
  for (const f of ['startedAt', 'finishedAt'] as const) {
    if (!NANOS(dto[f]))
      throw new ValidationError(`invalid JobLog: field '${f}': ${f} must be Unix nanoseconds (integer)`, f);
  }
  if (!isStateValue(dto.state))
    throw new ValidationError(`invalid JobLog: field 'state': ${dto.state} is not a state value`, 'state');
  return normalizeJobLog(dto);
}

/** A list of job log entries (the JR's batched delivery). */
export function parseJobLogs(body: unknown): JobLogDto[] {
  if (!Array.isArray(body)) throw new ValidationError('invalid JobLog batch: body must be a JSON array');
  return body.map((entry, i) => {
    try {
      return parseJobLog(entry);
    } catch (err) {
      const e = err as ValidationError;
      throw new ValidationError(`entry ${i}: ${e.message}`, e.field);
    }
  });
}

/** A ReportBatch as the RM works with it: validated parts, bad finishes set aside by request id. */
export interface ParsedReportBatch {
  logs: JobLogDto[];
  progress: RequestProgressDto[];
  /** Well-formed finishes, in batch order. */
  finishes: FinishRequestDto[];
  /** Finishes that are not (each is answered `invalid`), with the reason. */
  invalidFinishes: Array<{ requestId: string; message: string }>;
}

const isNonEmptyStr = (v: unknown): v is string => typeof v === 'string' && v !== '';

function listField(body: Record<string, unknown>, key: string, what: string): unknown[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v))
    throw new ValidationError(`invalid ReportBatch: field '${key}': ${key} must be a list of ${what}`, key);
  return v;
}

function reportItemError(key: string, i: number, err: unknown): ValidationError {
  const e = err as ValidationError;
  return new ValidationError(
    `invalid ReportBatch: ${key}[${i}]: ${e.message}`,
    `${key}[${i}]${e.field ? `.${e.field}` : ''}`,
  );
}

/** Fast path of a report batch's progress item: what RequestProgressDto accepts, with a non-empty id. */
export function isWellFormedProgress(p: unknown): p is { requestId: string; finishedJobs: number } {
  return isPlainObject(p) && isNonEmptyStr(p.requestId) && isNonNegInt(p.finishedJobs);
}

/** Fast path of a report batch's finish (its id checked before): what FinishRequestDto accepts, with a real time. */
export function isWellFormedFinish(f: Record<string, unknown>): boolean {
  return (
    FINAL_STATES.has(f.state as number) &&
    isNonNegInt(f.finishedJobs) &&
    typeof f.finishedAt === 'string' &&
    parseRfc3339(f.finishedAt) !== undefined
  );
}

/**
 * Body of `POST /api/v1/internal/reports`. A bad job-log entry or progress
 * value, or a finish without a request id, makes the whole batch a 400 whose
 * message names the item; any other bad finish is set aside in
 * `invalidFinishes` so the rest of the batch still applies. Well-formed items
 * (all of them, in practice) take a fast path without class-validator.
 */
export function parseReportBatch(body: unknown): ParsedReportBatch {
  if (!isPlainObject(body)) throw new ValidationError('invalid ReportBatch: body must be a JSON object');
  const logs = listField(body, 'logs', 'JobLog').map((entry, i) => {
    let e: JobLogDto;
    try {
      e = parseJobLog(entry);
    } catch (err) {
      throw reportItemError('logs', i, err);
    }
    if (!isNonEmptyStr(e.requestId))
      throw new ValidationError(
        `invalid ReportBatch: logs[${i}]: invalid JobLog: field 'requestId': requestId must be set`,
        `logs[${i}].requestId`,
      );
    return e;
  });
  const progress = listField(body, 'progress', 'RequestProgress').map((p, i) => {
    if (isWellFormedProgress(p))
      return Object.assign(new RequestProgressDto(), {
        requestId: p.requestId,
        finishedJobs: p.finishedJobs,
      });
    try {
      parseRequestProgress(p);
    } catch (err) {
      throw reportItemError('progress', i, err);
    }
    // Well-formed but for an empty id.
    throw new ValidationError(
      `invalid ReportBatch: progress[${i}]: invalid RequestProgress: field 'requestId': requestId must be set`,
      `progress[${i}].requestId`,
    );
  });
  const finishes: FinishRequestDto[] = [];
  const invalidFinishes: ParsedReportBatch['invalidFinishes'] = [];
  listField(body, 'finishes', 'FinishRequest').forEach((f, i) => {
    if (!isPlainObject(f) || !isNonEmptyStr(f.requestId))
      throw new ValidationError(
        `invalid ReportBatch: finishes[${i}]: invalid FinishRequest: field 'requestId': requestId must be set`,
        `finishes[${i}].requestId`,
      );
    if (isWellFormedFinish(f)) {
      finishes.push(
        Object.assign(new FinishRequestDto(), {
          requestId: f.requestId,
          state: f.state as StateValue,
          finishedAt: f.finishedAt,
          finishedJobs: f.finishedJobs,
        }),
      );
      return;
    }
    try {
      finishes.push(parseFinishRequest(f));
    } catch (err) {
      invalidFinishes.push({ requestId: f.requestId, message: (err as Error).message });
    }
  });
  return { logs, progress, finishes, invalidFinishes };
}
