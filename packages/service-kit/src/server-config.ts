/**
 * Config keys the RM and the JR both declare: the listening address, the
 * server's TLS files and the TLS files of each one's client of the other.
 * Declared once so their names, SPINCYCLE_* variables and descriptions cannot
 * drift apart; each service spreads them into its own schema.
 */
import { ConfigError } from './config.js';
import { byteLimit } from './http-app.js';
import { DEFAULT_SERVER_LIMITS, type ServerLimits, type TlsFiles } from './server.js';

type TlsFileKey<P extends string> = `${P}.cert_file` | `${P}.key_file` | `${P}.ca_file`;

/** Schema entries of `<prefix>.cert_file`, `.key_file` and `.ca_file` (all optional strings). */
export type TlsFileKeys<P extends string> = {
  readonly [K in TlsFileKey<P>]: { readonly type: 'string'; readonly env: string; readonly desc?: string };
};

/** `server.addr`: the host:port to listen on, with the service's default. */
export function serverAddrKey<D extends string>(defaultAddr: D) {
  return {
    'server.addr': {
      type: 'string',
      default: defaultAddr,
      env: 'SPINCYCLE_SERVER_ADDR',
      desc: 'host:port to listen on',
    },
  } as const;
}

/**
 * `server.headers_timeout`, `server.request_timeout`, `server.max_connections`
 * and `server.body_limit` (with the service's default): what one caller can
 * make the server hold (see `ServerLimits`, docs/operations.md "Limits").
 */
export function serverLimitKeys<D extends string>(defaultBodyLimit: D, bodyLimitDesc: string) {
  return {
    'server.headers_timeout': {
      type: 'duration',
      default: `${DEFAULT_SERVER_LIMITS.headersTimeoutMs / 1000}s`,
      env: 'SPINCYCLE_SERVER_HEADERS_TIMEOUT',
      desc: "time to receive a request's headers (408 after; 0 = none)",
    },
    'server.request_timeout': {
      type: 'duration',
      default: `${DEFAULT_SERVER_LIMITS.requestTimeoutMs / 1000}s`,
      env: 'SPINCYCLE_SERVER_REQUEST_TIMEOUT',
      desc: 'time to receive a whole request, body included (408 after; 0 = none)',
    },
    'server.max_connections': {
      type: 'int',
      default: DEFAULT_SERVER_LIMITS.maxConnections,
      env: 'SPINCYCLE_SERVER_MAX_CONNECTIONS',
      desc: 'open connections at most; more are closed at once (0 = no limit)',
    },
    'server.body_limit': {
      type: 'string',
      default: defaultBodyLimit,
      env: 'SPINCYCLE_SERVER_BODY_LIMIT',
      desc: bodyLimitDesc,
    },
  } as const;
}

type LimitValues = {
  readonly 'server.headers_timeout': number;
  readonly 'server.request_timeout': number;
  readonly 'server.max_connections': number;
};

/** The server limits configured; throws ConfigError when the headers may take longer than the whole request. */
export function serverLimitsFrom(values: LimitValues): ServerLimits {
  const headers = values['server.headers_timeout'];
  const request = values['server.request_timeout'];
  if (headers > 0 && request > 0 && headers > request)
    throw new ConfigError(
      "config: 'server.headers_timeout' must not be longer than 'server.request_timeout'",
    );
  return {
    headersTimeoutMs: headers,
    requestTimeoutMs: request,
    maxConnections: values['server.max_connections'],
  };
}

/** A body limit key's value in bytes; throws ConfigError naming the key. */
export function bodyLimitFrom(key: string, value: string): number {
  try {
    return byteLimit(value);
  } catch (err) {
    throw new ConfigError(`config: '${key}' ${(err as Error).message}`);
  }
}

/**
 * The three TLS file keys under `prefix` (e.g. `jr_client.tls`), each
 * overridable by `SPINCYCLE_<PREFIX>_<KEY>` (`SPINCYCLE_JR_CLIENT_TLS_CA_FILE`).
 */
export function tlsFileKeys<P extends string>(prefix: P, caDesc?: string): TlsFileKeys<P> {
  const env = `SPINCYCLE_${prefix.toUpperCase().replaceAll('.', '_')}`;
  return {
    [`${prefix}.cert_file`]: { type: 'string', env: `${env}_CERT_FILE` },
    [`${prefix}.key_file`]: { type: 'string', env: `${env}_KEY_FILE` },
    [`${prefix}.ca_file`]: { type: 'string', env: `${env}_CA_FILE`, ...(caDesc ? { desc: caDesc } : {}) },
  } as TlsFileKeys<P>;
}

/** `server.tls.*`: a CA file makes the server require client certificates (see `startServer`). */
export function serverTlsKeys(): TlsFileKeys<'server.tls'> {
  return tlsFileKeys('server.tls', 'when set, client certificates are required');
}

/** The TLS files configured under `prefix`; empty strings count as unset. */
export function tlsFilesFrom<P extends string>(
  values: { readonly [K in TlsFileKey<P>]?: string | undefined },
  prefix: P,
): TlsFiles {
  const get = (k: string) => {
    const v = (values as Record<string, string | undefined>)[`${prefix}.${k}`];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  return { certFile: get('cert_file'), keyFile: get('key_file'), caFile: get('ca_file') };
}

/**
 * `tlsFilesFrom` that also checks the certificate and key come together;
 * throws ConfigError naming the missing key.
 */
export function pairedTlsFilesFrom<P extends string>(
  values: { readonly [K in TlsFileKey<P>]?: string | undefined },
  prefix: P,
): TlsFiles {
  const tls = tlsFilesFrom(values, prefix);
  if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
    const [missing, present] = tls.certFile ? ['key_file', 'cert_file'] : ['cert_file', 'key_file'];
    throw new ConfigError(`config: '${prefix}.${missing}' must be set together with '${prefix}.${present}'`);
  }
  return tls;
}
