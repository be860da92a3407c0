/**
 * Config loading shared by the RM and JR (docs/compatibility.md#configuration): a YAML file, then
 * SPINCYCLE_* environment variables, over built-in defaults. Keys are
 * declared once in a schema; unknown keys and bad values stop start-up with a
 * message naming the key. Loaded once in `main` into a typed object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDuration, parseDurationMs } from '@spincycle/protocol';
import { parse as parseYaml } from 'yaml';

/** `objects`: a list of maps (YAML in the file; JSON text in an environment variable), checked by the service. */
export type FieldType = 'string' | 'int' | 'boolean' | 'string[]' | 'duration' | 'objects';

type ValueOf<T extends FieldType> = T extends 'int' | 'duration'
  ? number
  : T extends 'boolean'
    ? boolean
    : T extends 'string[]'
      ? string[]
      : T extends 'objects'
        ? Record<string, unknown>[]
        : string;

export interface FieldSpec<T extends FieldType = FieldType> {
  type: T;
  /** Built-in default. `undefined` means "not set". Durations: a duration string. */
  default?: string | number | boolean | string[] | Record<string, unknown>[];
  /** Environment variable that overrides the file. */
  env?: string;
  /**
   * Redacted when the effective config is logged: `true` hides the whole
   * value, `'dsn'` the password inside a database DSN (the whole value when it
   * has an `@` but no form this knows).
   */
  secret?: boolean | 'dsn';
  /** For strings: allowed values. */
  oneOf?: readonly string[];
  desc?: string;
}

export type ConfigSchema = Record<string, FieldSpec>;

/** Flat, dotted-key result: durations are milliseconds. */
export type ConfigValues<S extends ConfigSchema> = {
  [K in keyof S]: S[K] extends { default: unknown }
    ? ValueOf<S[K]['type']>
    : ValueOf<S[K]['type']> | undefined;
};

/** Thrown when the config file or an environment variable is unusable; names the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function flatten(obj: unknown, prefix: string, out: Map<string, unknown>, schema: ConfigSchema): void {
  if (obj === null || obj === undefined) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    out.set(prefix, obj);
    return;
  }
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    // A schema key whose value is an object-shaped leaf (none today) would stop here.
    if (key in schema) out.set(key, v);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out, schema);
    else out.set(key, v);
  }
}

function coerce(key: string, spec: FieldSpec, raw: unknown, from: string): unknown {
  const bad = (expected: string) =>
    new ConfigError(`config ${from}: '${key}' must be ${expected}, got ${JSON.stringify(raw)}`);
  switch (spec.type) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw bad('a string');
      const s = String(raw);
      if (spec.oneOf && !spec.oneOf.includes(s)) throw bad(`one of ${spec.oneOf.join(', ')}`);
      return s;
    }
    case 'int': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw bad('a non-negative integer');
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw bad('true or false');
    }
    case 'string[]': {
      if (typeof raw === 'string')
        return raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      throw bad('a list of strings');
    }
    case 'objects': {
      let list = raw;
      if (typeof raw === 'string') {
        try {
          list = JSON.parse(raw);
        } catch {
          throw bad('a JSON list of objects');
        }
      }
      const isMap = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
      if (Array.isArray(list) && list.every(isMap)) return list;
      throw bad('a list of maps');
    }
    case 'duration': {
      if (typeof raw === 'number' && raw >= 0) return raw * 1000; // bare numbers are seconds
      if (typeof raw === 'string' && isDuration(raw) && !raw.startsWith('-')) return parseDurationMs(raw);
      throw bad('a duration such as 30s or 500ms');
    }
  }
}

export interface LoadOptions {
  /** Config file path; must exist when given. */
  file?: string;
  /** Implicit file: used only when it exists. */
  optionalFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra overrides applied last (tests). */
  overrides?: Record<string, unknown>;
}

/** The implicit config file: `config/<ENV>.yaml`, ENV from `ENVIRONMENT` (staging, production, else development). */
export function implicitConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const e =
    env.ENVIRONMENT === 'staging' || env.ENVIRONMENT === 'production' ? env.ENVIRONMENT : 'development';
  return join('config', `${e}.yaml`);
}

/** The config file to read: the explicit one (must exist), else the implicit one (read when present). */
export function configFileFor(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Pick<LoadOptions, 'file' | 'optionalFile'> {
  return explicit ? { file: explicit } : { optionalFile: implicitConfigFile(env) };
}

/** Load config: defaults < file < environment < overrides. */
export function loadConfig<S extends ConfigSchema>(schema: S, opts: LoadOptions = {}): ConfigValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    if (spec.default !== undefined) out[key] = coerce(key, spec, spec.default, 'default');
  }
  const file =
    opts.file ?? (opts.optionalFile && existsSync(opts.optionalFile) ? opts.optionalFile : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    const flat = new Map<string, unknown>();
    flatten(doc, '', flat, schema);
    for (const [key, raw] of flat) {
      const spec = schema[key];
      if (!spec) throw new ConfigError(`config file ${file}: unknown key '${key}'`);
      if (raw === null || raw === undefined) continue;
      out[key] = coerce(key, spec, raw, `file ${file}`);
    }
  }
  const env = opts.env ?? process.env;
  for (const [key, spec] of Object.entries(schema)) {
    if (!spec.env) continue;
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue; // empty counts as unset, as the original
    out[key] = coerce(key, spec, raw, `environment ${spec.env}`);
  }
  for (const [key, raw] of Object.entries(opts.overrides ?? {})) {
    const spec = schema[key];
    if (!spec) throw new ConfigError(`config override: unknown key '${key}'`);
    out[key] = raw === undefined ? undefined : coerce(key, spec, raw, 'override');
  }
  return out as ConfigValues<S>;
}

const HIDDEN = '*****';

/**
 * A DSN with its password replaced by `*****`, in every form the RM takes:
 * `scheme://user:pw@host/db` (the password runs to the last `@` before the
 * path) and Go's `user:pw@tcp(host:port)/db`, `user:pw@unix(/sock)/db`,
 * `user:pw@/db` (to the last `@` before the address). Anything else is
 * returned as it is.
 */
export function redactDsnPassword(value: string): string {
  const url = /^([a-z][\w+.-]*:\/\/[^:/@]*:)[^/]*@/i.exec(value);
  if (url) return `${url[1]}${HIDDEN}@${value.slice(url[0].length)}`;
  const go = /^([^:/@]*:).*@((?:tcp|unix)?(?:\([^)]*\))?\/[^@]*)$/s.exec(value);
  if (go) return `${go[1]}${HIDDEN}@${go[2]}`;
  return value;
}

/** A DSN with a user but no password (`mysql://u@h/db`, `u@tcp(h)/db`). */
const NO_PASSWORD_DSN = /^(?:[a-z][\w+.-]*:\/\/)?[^:/@]*@[^@]*$/i;

/** The effective config with secrets (and passwords inside DSNs) redacted, for logging. */
export function redactConfig(schema: ConfigSchema, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const secret = schema[key]?.secret;
    if (secret === true) out[key] = HIDDEN;
    else if (typeof value === 'string') {
      const redacted = redactDsnPassword(value);
      // A DSN of a form not known above may still hold a password: hide it whole.
      const unknownForm = redacted === value && value.includes('@') && !NO_PASSWORD_DSN.test(value);
      out[key] = secret === 'dsn' && unknownForm ? HIDDEN : redacted;
    } else out[key] = value;
  }
  return out;
}

/** Text for `--help`: every key, its env var, type and default. */
export function describeConfig(schema: ConfigSchema): string {
  return Object.entries(schema)
    .map(
      ([k, s]) =>
        `  ${k.padEnd(28)} ${(s.env ?? '').padEnd(34)} ${s.type.padEnd(9)} ${s.default === undefined ? '' : JSON.stringify(s.default)}${s.desc ? `  ${s.desc}` : ''}`,
    )
    .join('\n');
}
