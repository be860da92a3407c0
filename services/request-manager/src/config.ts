/**
 * RM configuration (docs/compatibility.md#configuration): keys declared
 * once, defaults < YAML file < SPINCYCLE_* environment. `mysql.dsn` has no
 * default: when it is unset the RM uses an embedded SQLite file in `data.dir`.
 */
import { resolve } from 'node:path';
import {
  bodyLimitFrom,
  ConfigError,
  type ConfigSchema,
  type ConfigValues,
  configFileFor,
  loadConfig,
  pairedTlsFilesFrom,
  redactConfig,
  type ServerLimits,
  serverAddrKey,
  serverLimitKeys,
  serverLimitsFrom,
  serverTlsKeys,
  type TlsFiles,
  tlsFileKeys,
} from '@spincycle/service-kit';
import { parseMysqlDsn } from './db/mysql-dsn.js';
import { parseKeep } from './retention.js';

export const RM_CONFIG_SCHEMA = {
  ...serverAddrKey('127.0.0.1:32308'),
  ...serverTlsKeys(),
  ...serverLimitKeys(
    '1mb',
    'largest body of a user call (413 above); Job Runner calls: server.internal_body_limit',
  ),
  'server.internal_body_limit': {
    type: 'string',
    default: '64mb',
    env: 'SPINCYCLE_SERVER_INTERNAL_BODY_LIMIT',
    desc: 'largest body of a Job Runner call (finish, suspend with its chain, job logs, reports; 413 above)',
  },
  'limits.create_rate': {
    type: 'string',
    default: '',
    env: 'SPINCYCLE_LIMITS_CREATE_RATE',
    desc: 'requests one user may create per second, minute or hour, e.g. 5/s or 100/m (429 above); empty = no limit',
  },
  'limits.create_burst': {
    type: 'int',
    default: 0,
    env: 'SPINCYCLE_LIMITS_CREATE_BURST',
    desc: 'creates a user may make at once before limits.create_rate applies (0 = the rate count)',
  },
  'limits.max_jobs': {
    type: 'int',
    default: 100_000,
    env: 'SPINCYCLE_LIMITS_MAX_JOBS',
    desc: "most jobs one request's chain may have; a create that would build more is a 400, refused while building",
  },
  'mysql.dsn': {
    type: 'string',
    env: 'SPINCYCLE_MYSQL_DSN',
    secret: 'dsn',
    desc: 'mysql://user:pass@host:port/db or user:pass@tcp(host:port)/db; unset = SQLite (the password is never logged)',
  },
  'mysql.pool_size': { type: 'int', default: 20, env: 'SPINCYCLE_MYSQL_POOL_SIZE' },
  'mysql.tls.cert_file': { type: 'string' },
  'mysql.tls.key_file': { type: 'string' },
  'mysql.tls.ca_file': { type: 'string' },
  'data.dir': {
    type: 'string',
    default: '.data',
    env: 'SPINCYCLE_DATA_DIR',
    desc: 'SQLite file <dir>/spincycle.sqlite when mysql.dsn is unset',
  },
  'specs.dir': { type: 'string', default: 'specs/', env: 'SPINCYCLE_SPECS_DIR' },
  'jobs.module': {
    type: 'string',
    env: 'SPINCYCLE_JOBS_MODULE',
    desc: 'module exporting the job factory (built-in jobs only when unset)',
  },
  'jr_client.url': {
    type: 'string',
    default: 'http://127.0.0.1:32307',
    env: 'SPINCYCLE_JR_CLIENT_URL',
    desc: 'one JR base URL or a comma-separated list',
  },
  'jr_client.timeout': {
    type: 'duration',
    default: '10s',
    env: 'SPINCYCLE_JR_CLIENT_TIMEOUT',
    desc: 'per-attempt timeout of RM→JR calls',
  },
  ...tlsFileKeys('jr_client.tls'),
  'jr_client.internal_token_file': {
    type: 'string',
    env: 'SPINCYCLE_JR_CLIENT_INTERNAL_TOKEN_FILE',
    desc: 'token sent to Job Runners (X-Spincycle-Internal-Token); default: auth.internal_token_file',
  },
  'auth.admin_roles': {
    type: 'string[]',
    default: [],
    env: 'SPINCYCLE_AUTH_ADMIN_ROLES',
    desc: 'callers with one of these roles may start/stop anything',
  },
  'auth.strict': {
    type: 'boolean',
    env: 'SPINCYCLE_AUTH_STRICT',
    desc: 'deny request types that have no ACLs (default: true whenever callers are authenticated)',
  },
  'auth.module': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_MODULE',
    desc: 'auth plugin module exporting authenticate(request) and/or authorize(caller, op, request)',
  },
  'auth.tokens_file': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_TOKENS_FILE',
    desc: 'YAML/JSON map of token SHA-256 (hex) to {user, roles}',
  },
  'auth.jwt.secret_file': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_JWT_SECRET_FILE',
    desc: 'JWT HS256 shared secret (>= 32 bytes)',
  },
  'auth.jwt.public_key_file': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_JWT_PUBLIC_KEY_FILE',
    desc: 'JWT RS256 PEM public key or certificate',
  },
  'auth.jwt.jwks_file': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_JWT_JWKS_FILE',
    desc: 'JWT keys as a JWKS file',
  },
  'auth.jwt.jwks_url': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_JWT_JWKS_URL',
    desc: "JWT keys fetched from this URL (an identity provider's jwks_uri)",
  },
  'auth.jwt.jwks_cache_max_age': {
    type: 'duration',
    default: '10m',
    desc: 'how long fetched JWKS keys are used before they are fetched again',
  },
  'auth.jwt.jwks_cooldown': {
    type: 'duration',
    default: '30s',
    desc: 'least time between JWKS fetches caused by tokens with an unknown kid',
  },
  'auth.jwt.algorithms': {
    type: 'string[]',
    default: [],
    desc: 'accepted alg values (default HS256 with a secret, RS256 with a key or JWKS)',
  },
  'auth.jwt.issuer': { type: 'string', env: 'SPINCYCLE_AUTH_JWT_ISSUER', desc: 'required iss, when set' },
  'auth.jwt.audience': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_JWT_AUDIENCE',
    desc: 'required aud; must be set with a public key, JWKS file or JWKS URL',
  },
  'auth.jwt.name_claim': { type: 'string', default: 'sub', desc: 'claim holding the user name' },
  'auth.jwt.roles_claim': {
    type: 'string',
    default: 'roles',
    desc: 'claim holding the roles (dotted path; list or space-separated string)',
  },
  'auth.jwt.clock_tolerance': { type: 'duration', default: '0s', desc: 'leeway for exp/nbf (at most 5m)' },
  'auth.internal_token_file': {
    type: 'string',
    env: 'SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE',
    desc: 'shared token Job Runners send on internal endpoints (X-Spincycle-Internal-Token)',
  },
  'auth.internal_client_names': {
    type: 'string[]',
    default: [],
    env: 'SPINCYCLE_AUTH_INTERNAL_CLIENT_NAMES',
    desc: 'host names/IPs a client certificate must be for (DNS/IP SAN, else CN) to act as a Job Runner; required with server.tls.ca_file unless JRs use a token',
  },
  'jr.lease': {
    type: 'duration',
    default: '30s',
    env: 'SPINCYCLE_JR_LEASE',
    desc: 'a Job Runner silent (no heartbeat) longer than this is lost: its RUNNING requests FAIL',
  },
  'retention.keep': {
    type: 'string',
    default: '',
    env: 'SPINCYCLE_RETENTION_KEEP',
    desc: 'delete final requests (with args, archives, job logs) this long after they finished, e.g. 90d; empty = keep forever',
  },
  'retention.interval': {
    type: 'duration',
    default: '1h',
    env: 'SPINCYCLE_RETENTION_INTERVAL',
    desc: 'how often the retention purge (one RM at a time) runs',
  },
  'retention.batch': {
    type: 'int',
    default: 500,
    env: 'SPINCYCLE_RETENTION_BATCH',
    desc: 'requests deleted per transaction by the retention purge',
  },
  'retention.pause': {
    type: 'duration',
    default: '200ms',
    env: 'SPINCYCLE_RETENTION_PAUSE',
    desc: 'pause between retention batches, so API calls are never held up',
  },
  'jr.sweep_interval': {
    type: 'duration',
    default: '5s',
    env: 'SPINCYCLE_JR_SWEEP_INTERVAL',
    desc: 'how often the sweeper (one RM at a time) looks for lost Job Runners',
  },
  'resumer.interval': {
    type: 'duration',
    default: '10s',
    env: 'SPINCYCLE_RESUMER_INTERVAL',
    desc: 'how often suspended chains are resumed / expired',
  },
  'resumer.ttl': {
    type: 'duration',
    default: '1h',
    env: 'SPINCYCLE_RESUMER_TTL',
    desc: 'a suspended chain older than this is failed',
  },
  'idempotency.ttl': {
    type: 'duration',
    default: '24h',
    env: 'SPINCYCLE_IDEMPOTENCY_TTL',
    desc: 'how long an Idempotency-Key of POST /api/v1/requests is remembered (a repeat answers the first request)',
  },
  'resumer.claim_timeout': {
    type: 'duration',
    default: '5m',
    desc: 'a claim older than this is considered abandoned',
  },
  'events.poll_interval': {
    type: 'duration',
    default: '500ms',
    env: 'SPINCYCLE_EVENTS_POLL_INTERVAL',
    desc: 'how often an open event stream reads the database for new events',
  },
  'events.keep_alive': {
    type: 'duration',
    default: '15s',
    env: 'SPINCYCLE_EVENTS_KEEP_ALIVE',
    desc: 'a quiet event stream gets a comment line this often (idle proxies close silent connections)',
  },
  'events.max_streams': {
    type: 'int',
    default: 1000,
    env: 'SPINCYCLE_EVENTS_MAX_STREAMS',
    desc: 'open event streams per RM at most (503 beyond)',
  },
  'events.max_duration': {
    type: 'duration',
    default: '1h',
    desc: 'an event stream is ended after this long (the client reconnects with Last-Event-ID)',
  },
  'locks.sweep_interval': {
    type: 'duration',
    default: '5s',
    env: 'SPINCYCLE_LOCKS_SWEEP_INTERVAL',
    desc: 'how often each RM frees locks of finished requests and starts lock waiters it missed',
  },
  schedules: {
    type: 'objects',
    default: [],
    env: 'SPINCYCLE_SCHEDULES',
    desc: 'schedules: a list of {name, cron, timezone, type, args, missed: skip|run-once, roles}',
  },
  'scheduler.interval': {
    type: 'duration',
    default: '1s',
    env: 'SPINCYCLE_SCHEDULER_INTERVAL',
    desc: 'how often each RM looks for due schedule runs',
  },
  'scheduler.grace': {
    type: 'duration',
    default: '10s',
    env: 'SPINCYCLE_SCHEDULER_GRACE',
    desc: "a due time older than this when first seen was missed (no RM ran): handled by the schedule's missed policy",
  },
  'notify.hmac_secret_file': {
    type: 'string',
    env: 'SPINCYCLE_NOTIFY_HMAC_SECRET_FILE',
    desc: 'file whose first line signs webhook bodies (X-Spincycle-Signature: sha256=<hex>); unsigned when unset',
  },
  'notify.allow_private': {
    type: 'boolean',
    default: false,
    env: 'SPINCYCLE_NOTIFY_ALLOW_PRIVATE',
    desc: 'allow webhook URLs that resolve to private, link-local or CGNAT addresses (loopback is always allowed)',
  },
  'notify.timeout': { type: 'duration', default: '10s', desc: 'per-attempt timeout of a webhook call' },
  'notify.attempts': { type: 'int', default: 5, desc: 'attempts per webhook URL before it is marked failed' },
  'notify.retry_wait': {
    type: 'duration',
    default: '1s',
    desc: 'wait before the first webhook retry; doubled each time (at most 30s)',
  },
  'log.level': {
    type: 'string',
    env: 'LOG_LEVEL',
    oneOf: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
  },
  'log.format': { type: 'string', env: 'LOG_FORMAT', oneOf: ['json', 'pretty'] },
} as const satisfies ConfigSchema;

/** The flat values as loaded (the schema is the source; auth reads its keys from here). */
export type RmConfigValues = ConfigValues<typeof RM_CONFIG_SCHEMA>;

/** The resolved config the RM runs with. Durations are milliseconds. */
export interface RmConfig {
  addr: string;
  serverTls: TlsFiles;
  serverLimits: ServerLimits;
  /** Largest user call body (`server.body_limit`) and Job Runner call body, in bytes. */
  bodyLimit: number;
  internalBodyLimit: number;
  /** Creates per user as a token bucket; undefined: no limit. */
  createRate: { perSecond: number; burst: number } | undefined;
  mysqlPoolSize: number;
  specsDir: string;
  jobsModule: string | undefined;
  jrUrls: string[];
  jrTimeoutMs: number;
  jrTls: TlsFiles;
  jrLeaseMs: number;
  sweepIntervalMs: number;
  resumerIntervalMs: number;
  resumerTtlMs: number;
  resumerClaimTimeoutMs: number;
  /** `limits.max_jobs`: most jobs one request's chain may have. */
  maxJobs: number;
  /** `idempotency.ttl` (ms). */
  idempotencyTtlMs: number;
  /** The flat values, for auth, the database target and the start-up log line. */
  values: RmConfigValues;
}

/** Load and cross-check the RM config. Throws ConfigError naming the key. */
export function loadRmConfig(
  opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {},
): RmConfigValues {
  const env = opts.env ?? process.env;
  const cfg = loadConfig(RM_CONFIG_SCHEMA, {
    ...configFileFor(opts.file, env),
    env,
    overrides: opts.overrides,
  });
  resolveRmConfig(cfg);
  return cfg;
}

/** The typed config from the flat values, cross-checked; throws ConfigError naming the key. */
export function resolveRmConfig(cfg: RmConfigValues): RmConfig {
  if (cfg['mysql.dsn']) parseMysqlDsn(cfg['mysql.dsn']);
  const urls = jrUrls(cfg);
  if (urls.length === 0)
    throw new ConfigError("config: 'jr_client.url' must name at least one Job Runner URL");
  for (const u of urls) {
    if (!/^https?:\/\/[^/]+/.test(u))
      throw new ConfigError(`config: 'jr_client.url' entry '${u}' must be an http(s):// URL`);
  }
  serverLimitsFrom(cfg);
  if (cfg['notify.attempts'] < 1)
    throw new ConfigError(`config: 'notify.attempts' must be at least 1, got ${cfg['notify.attempts']}`);
  parseKeep(cfg['retention.keep']);
  if (cfg['retention.batch'] < 1)
    throw new ConfigError(
      `config: 'retention.batch' must be a positive integer, got ${cfg['retention.batch']}`,
    );
  if (cfg['limits.max_jobs'] < 1)
    throw new ConfigError(
      `config: 'limits.max_jobs' must be a positive integer, got ${cfg['limits.max_jobs']}`,
    );
  return {
    addr: cfg['server.addr'],
    serverTls: pairedTlsFilesFrom(cfg, 'server.tls'),
    serverLimits: serverLimitsFrom(cfg),
    bodyLimit: bodyLimitFrom('server.body_limit', cfg['server.body_limit']),
    internalBodyLimit: bodyLimitFrom('server.internal_body_limit', cfg['server.internal_body_limit']),
    createRate: createRateFrom(cfg),
    maxJobs: cfg['limits.max_jobs'],
    idempotencyTtlMs: cfg['idempotency.ttl'],
    mysqlPoolSize: cfg['mysql.pool_size'],
    specsDir: cfg['specs.dir'],
    jobsModule: cfg['jobs.module'],
    jrUrls: urls,
    jrTimeoutMs: cfg['jr_client.timeout'],
    jrTls: pairedTlsFilesFrom(cfg, 'jr_client.tls'),
    jrLeaseMs: cfg['jr.lease'],
    sweepIntervalMs: cfg['jr.sweep_interval'],
    resumerIntervalMs: cfg['resumer.interval'],
    resumerTtlMs: cfg['resumer.ttl'],
    resumerClaimTimeoutMs: cfg['resumer.claim_timeout'],
    values: cfg,
  };
}

/** `limits.create_rate` and `limits.create_burst` as a token bucket; undefined: no limit. Throws ConfigError. */
export function createRateFrom(
  cfg: Pick<RmConfigValues, 'limits.create_rate' | 'limits.create_burst'>,
): { perSecond: number; burst: number } | undefined {
  const text = cfg['limits.create_rate'].trim();
  if (text === '' || text === '0') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)$/.exec(text);
  const count = Number(m?.[1]);
  if (!m || !(count > 0))
    throw new ConfigError(
      `config: 'limits.create_rate' must be a count per s, m or h (e.g. 5/s, 100/m), got ${JSON.stringify(text)}`,
    );
  const perSecond = count / ({ s: 1, m: 60, h: 3600 } as const)[m[2] as 's' | 'm' | 'h'];
  return { perSecond, burst: cfg['limits.create_burst'] || Math.max(1, Math.ceil(count)) };
}

/** The configured JR base URLs (trailing slashes removed). */
export function jrUrls(cfg: Pick<RmConfigValues, 'jr_client.url'>): string[] {
  return cfg['jr_client.url']
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
}

export function sqliteFile(cfg: Pick<RmConfigValues, 'data.dir'>): string {
  return resolve(cfg['data.dir'], 'spincycle.sqlite');
}

export function redactRmConfig(cfg: RmConfigValues): Record<string, unknown> {
  return redactConfig(RM_CONFIG_SCHEMA, cfg as Record<string, unknown>);
}
