/**
 * The class-validator plumbing behind every `parse*` function: a DTO object
 * from a parsed JSON body, and the first failed rule as a message naming its field.
 */
import { type ValidationError as CvError, validateSync } from 'class-validator';
import { ValidationError } from './errors.js';

export type Ctor<T> = new () => T;

export function firstMessage(errors: CvError[], path = ''): { field: string; message: string } | undefined {
  for (const e of errors) {
    const field = path ? `${path}.${e.property}` : e.property;
    const constraints = e.constraints ? Object.values(e.constraints) : [];
    if (constraints.length > 0) return { field, message: constraints[0] as string };
    const nested = e.children ? firstMessage(e.children, field) : undefined;
    if (nested) return nested;
  }
  return undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A DTO object (prototype `proto`) with the fields of a parsed JSON body.
 * Not a plain Object.assign: JSON.parse makes `"__proto__"` an ordinary key, and
 * assigning it would swap the DTO's prototype for the caller's object (fields
 * the checks never saw, inherited past them); a `constructor` field would hide
 * the class from class-validator, which finds its rules through it (a crash,
 * or no rules at all). Neither names a field of any payload: both are left out.
 */
export function toDto<T extends object>(proto: T, body: Record<string, unknown>): T {
  if (!Object.hasOwn(body, '__proto__') && !Object.hasOwn(body, 'constructor'))
    return Object.assign(Object.create(proto) as T, body);
  const dto = Object.create(proto) as Record<string, unknown>;
  for (const key of Object.keys(body)) if (key !== '__proto__' && key !== 'constructor') dto[key] = body[key];
  return dto as T;
}

/**
 * Validate a parsed JSON body against a DTO class. `what` names the payload in
 * messages, e.g. `invalid FinishRequest: field 'state': state must be ...`.
 */
export function validatePayload<T extends object>(cls: Ctor<T>, body: unknown, what: string): T {
  if (!isPlainObject(body)) throw new ValidationError(`invalid ${what}: body must be a JSON object`);
  const dto = toDto(cls.prototype as T, body);
  const first = firstMessage(dtoErrors(dto));
  if (first)
    throw new ValidationError(`invalid ${what}: field '${first.field}': ${first.message}`, first.field);
  return dto;
}

/** Every failed rule of a DTO object, as class-validator reports them (first failure per field). */
export function dtoErrors(dto: object): CvError[] {
  return validateSync(dto, { forbidUnknownValues: false, stopAtFirstError: true });
}
