/**
 * Config keys the RM and the JR both declare: the listening address, the
 * server's TLS files and the TLS files of each one's client of the other.
 * Declared once so their names, SPINCYCLE_* variables and descriptions cannot
 * drift apart; each service spreads them into its own schema.
 */
import type { TlsFiles } from './server.js';

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
