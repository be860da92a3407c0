/**
 * Job Runner configuration: defaults < YAML file <
 * environment. The first CLI argument names the file (it must exist);
 * otherwise `config/<ENV>.yaml` is read when present. Unknown keys and bad
 * values stop start-up with a message naming the key.
 */
import {
  bodyLimitFrom,
  ConfigError,
  type ConfigSchema,
  type ConfigValues,
  isLoopbackAddr,
  loadConfig,
  readTokenFile,
  type ServerLimits,
  serverAddrKey,
  serverLimitKeys,
  serverLimitsFrom,
  serverTlsKeys,
  splitAddr,
  type TlsFiles,
  tlsFileKeys,
  tlsFilesFrom,
} from '@spincycle/service-kit';

const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;

export const JR_CONFIG_SCHEMA = {
  ...serverAddrKey('127.0.0.1:32307'),
  'server.advertise_url': {
    type: 'string',
    env: 'SPINCYCLE_SERVER_ADVERTISE_URL',
    desc: 'base URL reported to the RM (default http(s)://<server.addr>)',
  },
  ...serverTlsKeys(),
  ...serverLimitKeys(
    '64mb',
    'largest accepted request body (chains and batches of chains from the RM; 413 above)',
  ),
  'rm_client.url': {
    type: 'string',
    default: 'http://127.0.0.1:32308',
    env: 'SPINCYCLE_RM_CLIENT_URL',
    desc: 'RM base URL, or a comma-separated list tried in turn when one is unreachable',
  },
  'rm_client.timeout': {
    type: 'duration',
    default: '10s',
    env: 'SPINCYCLE_RM_CLIENT_TIMEOUT',
    desc: 'per-call timeout',
  },
  ...tlsFileKeys('rm_client.tls'),
  'auth.internal_token_file': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE',
    desc: 'token every /api caller (the RM) must send (X-Spincycle-Internal-Token); default: rm_client.internal_token_file',
  },
  'auth.rm_client_names': {
    type: 'string[]',
    default: [],
    env: 'SPINCYCLE_AUTH_RM_CLIENT_NAMES',
    desc: 'host names/IPs a client certificate must be for (DNS/IP SAN, else CN) to call this API as a Request Manager; required with server.tls.ca_file unless RMs use a token',
  },
  'rm_client.internal_token_file': {
    type: 'string',
    env: 'SPINCYCLE_RM_CLIENT_INTERNAL_TOKEN_FILE',
    desc: "file with the RM's internal token (sent as X-Spincycle-Internal-Token)",
  },
  'jobs.module': {
    type: 'string',
    env: 'SPINCYCLE_JOBS_MODULE',
    desc: 'user job module (path or package); built-in jobs when unset',
  },
  'jobs.max_concurrent': {
    type: 'int',
    default: 0,
    env: 'SPINCYCLE_JOBS_MAX_CONCURRENT',
    desc: 'limit on jobs running at once in this JR (0 = unlimited)',
  },
  'jobs.max_log_bytes': {
    type: 'int',
    default: 1024 * 1024,
    env: 'SPINCYCLE_JOBS_MAX_LOG_BYTES',
    desc: "bytes kept of each job-log entry's stdout, stderr and error, each (the tail; the rest is cut before it goes to the RM)",
  },
  'jobs.shell_default_timeout': {
    type: 'duration',
    default: '1h',
    env: 'SPINCYCLE_JOBS_SHELL_DEFAULT_TIMEOUT',
    desc: 'time after which a shell-command job whose args set no timeout is killed and fails (0 = no limit)',
  },
  'jobs.shell_env_allowlist': {
    type: 'string[]',
    default: [],
    env: 'SPINCYCLE_JOBS_SHELL_ENV_ALLOWLIST',
    desc: "names of the JR's environment variables a shell-command job may see (empty = the whole environment)",
  },
  'jobs.max_report_queue': {
    type: 'int',
    default: 10_000,
    env: 'SPINCYCLE_JOBS_MAX_REPORT_QUEUE',
    desc: 'job-log entries waiting for the RM before jobs wait (no further try or job starts until the RM takes some; nothing is dropped)',
  },
  'heartbeat.interval': {
    type: 'duration',
    default: '5s',
    env: 'SPINCYCLE_HEARTBEAT_INTERVAL',
    desc: "how often the JR reports liveness and its chains to the RM (at most a third of the RM's jr.lease is used)",
  },
  'shutdown.grace': {
    type: 'duration',
    default: '20s',
    env: 'SPINCYCLE_SHUTDOWN_GRACE',
    desc: 'time to suspend chains and flush on shutdown',
  },
  'log.level': { type: 'string', default: 'info', env: 'LOG_LEVEL', oneOf: LOG_LEVELS },
  'log.format': { type: 'string', env: 'LOG_FORMAT', oneOf: ['json', 'pretty'] },
} as const satisfies ConfigSchema;

export type JrConfigValues = ConfigValues<typeof JR_CONFIG_SCHEMA>;

/** The resolved config the rest of the service uses. Durations are milliseconds. */
export interface JrConfig {
  addr: string;
  /** Explicit advertised base URL; undefined means "derive from the listening address". */
  advertiseUrl: string | undefined;
  serverTls: TlsFiles;
  /** Timeouts and connection limit of the HTTP server. */
  serverLimits: ServerLimits;
  /** Largest accepted request body in bytes (`server.body_limit`). */
  bodyLimit: number;
  rmUrls: string[];
  rmTimeoutMs: number;
  rmTls: TlsFiles;
  /** Shared internal token sent to the RM (from `rm_client.internal_token_file`). */
  rmInternalToken: string | undefined;
  /** Tokens callers of this JR's API may send, any of them (`auth.internal_token_file`, default the RM one); undefined: none. */
  apiInternalTokens: string[] | undefined;
  /** Names a verified client certificate may be for to call this API (`auth.rm_client_names`); empty: certificates admit none. */
  rmClientNames: string[];
  jobsModule: string | undefined;
  maxConcurrentJobs: number;
  /** Most bytes kept of each job-log entry's stdout, stderr and error (the tail). */
  maxLogBytes: number;
  /** Built-in `shell-command` jobs: default timeout (ms, 0 = none) and the JR variables they may see (undefined: all). */
  shellCommand: { defaultTimeout: number; envAllowlist: string[] | undefined };
  /** `jobs.max_report_queue`: entries queued for the RM before jobs wait. */
  maxReportQueue: number;
  shutdownGraceMs: number;
  /** Heartbeat period (ms); the RM's lease may shorten it. */
  heartbeatIntervalMs: number;
  logLevel: string;
  logFormat: 'json' | 'pretty' | undefined;
  /** The flat values, for logging the effective config. */
  values: JrConfigValues;
}

function checkUrl(key: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`config: '${key}' must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`config: '${key}' must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  return url.replace(/\/+$/, '');
}

function tlsFiles(values: JrConfigValues, prefix: 'server.tls' | 'rm_client.tls'): TlsFiles {
  const tls = tlsFilesFrom(values, prefix);
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
    const missing = tls.certFile ? 'key_file' : 'cert_file';
    throw new ConfigError(
      `config: '${prefix}.${missing}' must be set together with '${prefix}.${tls.certFile ? 'cert_file' : 'key_file'}'`,
    );
  }
  return tls;
}

/**
 * The tokens of an internal token file (the shared reader: one per line, each
 * at least 16 characters). Every one is accepted on this JR's API; the first
 * is the one sent to the RM. Several make a rotation seamless.
 */
export function readInternalTokens(file: string, key = 'rm_client.internal_token_file'): string[] {
  return readTokenFile(key, file);
}

/** The token this JR sends: the first of the file. */
export function readInternalToken(file: string, key = 'rm_client.internal_token_file'): string {
  return readInternalTokens(file, key)[0] as string;
}

/**
 * What admits callers to this JR's API, which runs commands: refuses client
 * certificates without a name list (every certificate of the CA would be an
 * RM) and a non-loopback address with no credentials at all.
 */
function checkApiCredentials(
  addr: string,
  serverTls: TlsFiles,
  tokens: string[] | undefined,
  names: string[],
): void {
  if (names.length > 0 && !serverTls.caFile)
    throw new ConfigError(
      "config: 'auth.rm_client_names' needs client certificates: set 'server.tls.cert_file', 'key_file' and 'ca_file'",
    );
  if (serverTls.caFile && names.length === 0 && !tokens)
    throw new ConfigError(
      "config: 'server.tls.ca_file' makes client certificates authenticate Request Managers, but 'auth.rm_client_names' is empty: list the RMs' certificate names there (or give them a token with 'auth.internal_token_file')",
    );
  if (!tokens && names.length === 0 && !isLoopbackAddr(addr))
    throw new ConfigError(
      `config: 'server.addr' ${addr} is not a loopback address and nothing authenticates callers of this Job Runner's API (it runs commands): set 'auth.internal_token_file' (or 'rm_client.internal_token_file'), or 'server.tls.ca_file' with 'auth.rm_client_names'`,
    );
}

/** A limit that must not be 0 (an unlimited one would let one entry sink a whole report call). */
function positive(key: string, n: number): number {
  if (n <= 0) throw new ConfigError(`config: '${key}' must be a positive integer, got ${n}`);
  return n;
}

/** Turn the flat values into a JrConfig; throws ConfigError naming the key. */
export function resolveConfig(values: JrConfigValues): JrConfig {
  const addr = values['server.addr'].trim();
  if (addr === '') throw new ConfigError('server.addr not set in config');
  try {
    splitAddr(addr);
  } catch (err) {
    throw new ConfigError(`config: 'server.addr' ${(err as Error).message.replace(/^server\.addr /, '')}`);
  }
  const advertise = values['server.advertise_url']?.trim();
  const rmUrls = values['rm_client.url']
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((u) => checkUrl('rm_client.url', u));
  if (rmUrls.length === 0) throw new ConfigError("config: 'rm_client.url' is empty");
  const serverTls = tlsFiles(values, 'server.tls');
  const apiInternalTokens = values['auth.internal_token_file']
    ? readInternalTokens(values['auth.internal_token_file'], 'auth.internal_token_file')
    : values['rm_client.internal_token_file']
      ? readInternalTokens(values['rm_client.internal_token_file'])
      : undefined;
  const rmClientNames = values['auth.rm_client_names'];
  checkApiCredentials(addr, serverTls, apiInternalTokens, rmClientNames);
  return {
    addr,
    advertiseUrl: advertise ? checkUrl('server.advertise_url', advertise) : undefined,
    serverTls,
    serverLimits: serverLimitsFrom(values),
    bodyLimit: bodyLimitFrom('server.body_limit', values['server.body_limit']),
    rmUrls,
    rmTimeoutMs: values['rm_client.timeout'] > 0 ? values['rm_client.timeout'] : 10_000,
    rmTls: tlsFiles(values, 'rm_client.tls'),
    rmInternalToken: values['rm_client.internal_token_file']
      ? readInternalToken(values['rm_client.internal_token_file'])
      : undefined,
    apiInternalTokens,
    rmClientNames,
    jobsModule: values['jobs.module']?.trim() || undefined,
    maxConcurrentJobs: values['jobs.max_concurrent'],
    maxLogBytes: positive('jobs.max_log_bytes', values['jobs.max_log_bytes']),
    shellCommand: {
      defaultTimeout: values['jobs.shell_default_timeout'],
      envAllowlist:
        values['jobs.shell_env_allowlist'].length > 0 ? values['jobs.shell_env_allowlist'] : undefined,
    },
    maxReportQueue: positive('jobs.max_report_queue', values['jobs.max_report_queue']),
    shutdownGraceMs: values['shutdown.grace'],
    heartbeatIntervalMs: values['heartbeat.interval'] > 0 ? values['heartbeat.interval'] : 5000,
    logLevel: values['log.level'],
    logFormat: values['log.format'] as JrConfig['logFormat'],
    values,
  };
}

/** Which implicit config file applies: `config/<ENV>.yaml`, ENV from ENVIRONMENT (as the original). */
export function implicitConfigFile(env: NodeJS.ProcessEnv): string {
  const e = env.ENVIRONMENT;
  return `config/${e === 'staging' || e === 'production' ? e : 'development'}.yaml`;
}

/** Load and resolve the config from CLI args and the environment. */
export function loadJrConfig(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  overrides?: Record<string, unknown>,
): JrConfig {
  const file = args[0];
  const values = loadConfig(JR_CONFIG_SCHEMA, {
    file: file && file !== '' ? file : undefined,
    optionalFile: implicitConfigFile(env),
    env,
    overrides,
  });
  return resolveConfig(values);
}
