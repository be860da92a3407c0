/**
 * Options from config files, environment variables and flags, in that order
 * of precedence (later wins). Everything here is pure except `loadConfigFiles`,
 * which takes the file reader as a parameter so tests need no real files.
 */
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './errors.js';

export const DEFAULT_ADDR = 'http://127.0.0.1:32308';
export const DEFAULT_TIMEOUT_MS = 5000;
export const SYSTEM_CONFIG_FILE = '/etc/spinc/spinc.yaml';
export const USER_CONFIG_FILE = '~/.spinc.yaml';

/** Flags as given on the command line (undefined = not given). */
export interface Flags {
  addr?: string;
  config?: string;
  timeout?: string;
  debug?: boolean;
  env?: string;
  json?: boolean;
  help?: boolean;
  version?: boolean;
  wait?: boolean;
  follow?: boolean;
  yes?: boolean;
  plan?: boolean;
  'idempotency-key'?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

export interface CommandLine {
  flags: Flags;
  /** The command and its arguments. */
  positionals: string[];
}

const FLAG_SPEC = {
  addr: { type: 'string' },
  config: { type: 'string' },
  timeout: { type: 'string' },
  debug: { type: 'boolean' },
  env: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  wait: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  yes: { type: 'boolean', short: 'y' },
  plan: { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
} as const;

/**
 * Split argv into flags and positionals. Flags may appear anywhere (before or
 * after the command); `--` ends flag parsing. Unknown flags are usage errors.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: FLAG_SPEC,
      strict: true,
      allowPositionals: true,
    });
    return { flags: values as Flags, positionals };
  } catch (err) {
    throw new UsageError(
      `Error parsing command line: ${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}`,
    );
  }
}

/** Values a config file may set. */
export interface ConfigValues {
  addr?: string;
  timeoutMs?: number;
  debug?: boolean;
  env?: string;
  token?: string;
  /** TLS files (paths; `~/` is expanded when they are read). */
  ca?: string;
  cert?: string;
  key?: string;
}

/** Keys a config file may hold. */
const CONFIG_KEYS = 'addr, timeout, debug, env, token, ca, cert, key';

export interface LoadedConfig {
  file: string;
  values: ConfigValues;
}

export interface ConfigLoadResult {
  configs: LoadedConfig[];
  /** Problems worth telling the user (bad YAML, bad values, a named file that is missing). */
  warnings: string[];
  /** Everything that was tried, for --debug. */
  notes: string[];
}

const TRUE_WORDS = new Set(['1', 't', 'true', 'yes', 'y', 'on']);
const FALSE_WORDS = new Set(['0', 'f', 'false', 'no', 'n', 'off', '']);

/** Parse a boolean as Go's strconv.ParseBool does, plus yes/no/on/off; undefined when not one. */
export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

/** Whole milliseconds > 0; undefined when not one. */
export function parseTimeoutMs(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Normalise a Request Manager address to a base URL: `host:port` gets
 * `http://`; anything but an http(s) URL is undefined.
 */
export function normalizeAddr(addr: string): string | undefined {
  const text = addr.trim();
  if (text === '') return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  try {
    const u = new URL(withScheme);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    if (u.hostname === '') return undefined;
    return withScheme.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** `~/x` → `<home>/x`. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  return path;
}

/** The config files to read: `--config`, else SPINC_CONFIG, else the system file then the user's. */
export function configFileList(
  flags: Flags,
  env: Record<string, string | undefined>,
  home: string,
  systemFile = SYSTEM_CONFIG_FILE,
): { files: string[]; explicit: boolean } {
  const given = flags.config ?? env.SPINC_CONFIG;
  if (given !== undefined && given.trim() !== '') {
    const files = given
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '')
      .map((f) => expandHome(f, home));
    return { files, explicit: true };
  }
  return { files: [systemFile, expandHome(USER_CONFIG_FILE, home)], explicit: false };
}

/** Parse one config file's text; bad values become warnings and are ignored. */
export function parseConfigText(text: string, file: string): { values: ConfigValues; warnings: string[] } {
  const warnings: string[] = [];
  const values: ConfigValues = {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return {
      values,
      warnings: [`ignoring config file ${file}: invalid YAML: ${(err as Error).message.split('\n')[0]}`],
    };
  }
  if (doc === null || doc === undefined) return { values, warnings };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    return {
      values,
      warnings: [`ignoring config file ${file}: expected a map of keys (${CONFIG_KEYS})`],
    };
  }
  for (const [key, raw] of Object.entries(doc as Record<string, unknown>)) {
    const str =
      raw === null || raw === undefined ? undefined : typeof raw === 'object' ? undefined : String(raw);
    switch (key) {
      case 'addr': {
        const addr = str === undefined ? undefined : normalizeAddr(str);
        if (addr === undefined)
          warnings.push(
            `${file}: ignoring addr ${JSON.stringify(raw)}: expected a URL such as ${DEFAULT_ADDR}`,
          );
        else values.addr = addr;
        break;
      }
      case 'timeout': {
        const t = parseTimeoutMs(raw);
        if (t === undefined)
          warnings.push(
            `${file}: ignoring timeout ${JSON.stringify(raw)}: expected milliseconds, a whole number > 0`,
          );
        else values.timeoutMs = t;
        break;
      }
      case 'debug': {
        const b = typeof raw === 'boolean' ? raw : str === undefined ? undefined : parseBool(str);
        if (b === undefined)
          warnings.push(`${file}: ignoring debug ${JSON.stringify(raw)}: expected true or false`);
        else values.debug = b;
        break;
      }
      case 'env':
        if (str === undefined) warnings.push(`${file}: ignoring env: expected a string`);
        else values.env = str;
        break;
      case 'token':
        if (str === undefined || str === '')
          warnings.push(`${file}: ignoring token: expected a non-empty string`);
        else values.token = str;
        break;
      case 'ca':
      case 'cert':
      case 'key':
        if (str === undefined || str === '') warnings.push(`${file}: ignoring ${key}: expected a file path`);
        else values[key] = str;
        break;
      default:
        warnings.push(`${file}: ignoring unknown key '${key}' (known: ${CONFIG_KEYS})`);
    }
  }
  return { values, warnings };
}

/**
 * Read the config files in order. A default file that does not exist is
 * skipped quietly; a file named with --config/SPINC_CONFIG that is missing,
 * unreadable or invalid gives a warning (the original skipped all silently).
 */
export function loadConfigFiles(
  files: readonly string[],
  explicit: boolean,
  readFile: (path: string) => string,
): ConfigLoadResult {
  const result: ConfigLoadResult = { configs: [], warnings: [], notes: [] };
  for (const file of files) {
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' && !explicit) {
        result.notes.push(`config file ${file}: not found`);
      } else {
        result.warnings.push(
          `ignoring config file ${file}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`,
        );
      }
      continue;
    }
    const parsed = parseConfigText(text, file);
    result.warnings.push(...parsed.warnings);
    result.notes.push(
      `config file ${file}: ${JSON.stringify({ ...parsed.values, token: parsed.values.token ? '***' : undefined })}`,
    );
    result.configs.push({ file, values: parsed.values });
  }
  return result;
}

export interface SpincOptions {
  addr: string;
  timeoutMs: number;
  debug: boolean;
  env: string;
  json: boolean;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token: string | undefined;
  /** TLS: CA to trust for an https RM, and a client certificate + key to present. */
  tls: { ca?: string; cert?: string; key?: string };
  help: boolean;
  version: boolean;
  wait: boolean;
  /** `log -f`: follow the job log live. */
  follow: boolean;
  yes: boolean;
  /** start: print the plan (dry run) instead of starting. */
  plan: boolean;
  /** start: sent as Idempotency-Key. */
  idempotencyKey: string | undefined;
  /** Where each of addr/timeout/debug came from, for --debug. */
  sources: Record<'addr' | 'timeout' | 'debug' | 'env' | 'token' | 'ca' | 'cert' | 'key', string>;
  /**
   * Options to repeat in commands spinc prints (`spinc status <options><id>`):
   * only those the user set on the command line, as the original does.
   */
  repeatable: string;
}

/** Combine config files < environment < flags. Bad env or flag values are usage errors. */
export function resolveOptions(
  flags: Flags,
  env: Record<string, string | undefined>,
  configs: readonly LoadedConfig[],
): SpincOptions {
  const sources = {
    addr: 'default',
    timeout: 'default',
    debug: 'default',
    env: 'default',
    token: 'none',
    ca: 'none',
    cert: 'none',
    key: 'none',
  };
  const tls: SpincOptions['tls'] = {};
  let addr = DEFAULT_ADDR;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let debug = false;
  let envName = '';
  let token: string | undefined;

  for (const { file, values } of configs) {
    if (values.addr !== undefined) [addr, sources.addr] = [values.addr, file];
    if (values.timeoutMs !== undefined) [timeoutMs, sources.timeout] = [values.timeoutMs, file];
    if (values.debug !== undefined) [debug, sources.debug] = [values.debug, file];
    if (values.env !== undefined) [envName, sources.env] = [values.env, file];
    if (values.token !== undefined) [token, sources.token] = [values.token, file];
    for (const k of ['ca', 'cert', 'key'] as const)
      if (values[k] !== undefined) [tls[k], sources[k]] = [values[k], file];
  }

  const fromEnv = (name: string) => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const e = {
    addr: fromEnv('SPINC_ADDR'),
    timeout: fromEnv('SPINC_TIMEOUT'),
    debug: fromEnv('SPINC_DEBUG'),
    env: fromEnv('SPINC_ENV'),
    token: fromEnv('SPINC_TOKEN'),
  };
  if (e.addr !== undefined) {
    const a = normalizeAddr(e.addr);
    if (a === undefined)
      throw new UsageError(`invalid SPINC_ADDR '${e.addr}': expected a URL such as ${DEFAULT_ADDR}`);
    [addr, sources.addr] = [a, 'SPINC_ADDR'];
  }
  if (e.timeout !== undefined) {
    const t = parseTimeoutMs(e.timeout);
    if (t === undefined)
      throw new UsageError(`invalid SPINC_TIMEOUT '${e.timeout}': expected milliseconds, a whole number > 0`);
    [timeoutMs, sources.timeout] = [t, 'SPINC_TIMEOUT'];
  }
  if (e.debug !== undefined) {
    const b = parseBool(e.debug);
    if (b === undefined) throw new UsageError(`invalid SPINC_DEBUG '${e.debug}': expected true or false`);
    [debug, sources.debug] = [b, 'SPINC_DEBUG'];
  }
  if (e.env !== undefined) [envName, sources.env] = [e.env, 'SPINC_ENV'];
  if (e.token !== undefined) [token, sources.token] = [e.token, 'SPINC_TOKEN'];
  for (const k of ['ca', 'cert', 'key'] as const) {
    const name = `SPINC_${k.toUpperCase()}`;
    const v = fromEnv(name);
    if (v !== undefined) [tls[k], sources[k]] = [v, name];
    const flag = flags[k];
    if (flag !== undefined) {
      if (flag.trim() === '') throw new UsageError(`invalid --${k} '': expected a file path`);
      [tls[k], sources[k]] = [flag, `--${k}`];
    }
  }
  if (Boolean(tls.cert) !== Boolean(tls.key))
    throw new UsageError(
      `a client certificate needs both cert and key: got only ${tls.cert ? `cert (from ${sources.cert})` : `key (from ${sources.key})`}`,
    );

  if (flags.addr !== undefined) {
    const a = normalizeAddr(flags.addr);
    if (a === undefined)
      throw new UsageError(`invalid --addr '${flags.addr}': expected a URL such as ${DEFAULT_ADDR}`);
    [addr, sources.addr] = [a, '--addr'];
  }
  if (flags.timeout !== undefined) {
    const t = parseTimeoutMs(flags.timeout);
    if (t === undefined)
      throw new UsageError(`invalid --timeout '${flags.timeout}': expected milliseconds, a whole number > 0`);
    [timeoutMs, sources.timeout] = [t, '--timeout'];
  }
  if (flags.debug !== undefined) [debug, sources.debug] = [flags.debug, '--debug'];
  if (flags.env !== undefined) [envName, sources.env] = [flags.env, '--env'];

  const repeat: string[] = [];
  if (flags.env !== undefined) repeat.push(`--env ${quoteValue(flags.env)}`);
  if (flags.addr !== undefined) repeat.push(`--addr ${quoteValue(flags.addr)}`);
  if (flags.config !== undefined) repeat.push(`--config ${quoteValue(flags.config)}`);
  for (const k of ['ca', 'cert', 'key'] as const) {
    const flag = flags[k];
    if (flag !== undefined) repeat.push(`--${k} ${quoteValue(flag)}`);
  }

  return {
    addr,
    timeoutMs,
    debug,
    env: envName,
    json: flags.json ?? false,
    token,
    tls,
    help: flags.help ?? false,
    version: flags.version ?? false,
    wait: flags.wait ?? false,
    follow: flags.follow ?? false,
    yes: flags.yes ?? false,
    plan: flags.plan ?? false,
    idempotencyKey: flags['idempotency-key'],
    sources,
    repeatable: repeat.map((r) => `${r} `).join(''),
  };
}

/**
 * Quote a value for a printed command line: values with spaces, tabs or `"`
 * are double-quoted with inner `"` escaped (as the original); empty values
 * become `""` so the printed command still parses.
 */
export function quoteValue(value: string): string {
  if (value === '') return '""';
  if (/[ \t"]/.test(value)) return `"${value.replace(/"/g, '\\"')}"`;
  return value;
}
