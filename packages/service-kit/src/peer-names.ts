/**
 * Which configured name a verified TLS client certificate stands for: the
 * RM's `auth.internal_client_names` (Job Runners) and the JR's
 * `auth.rm_client_names` (Request Managers). Names are matched the way TLS
 * matches a server's name, by node's X509Certificate: a host name against the
 * DNS subjectAltNames (the subject CN only when the certificate has no DNS
 * name), an IP address against the IP subjectAltNames. Wildcard certificates
 * match nothing here (a client is one host, not many), and URI or e-mail
 * names never count: a list of names parsed from `subjectaltname` text could
 * be fooled by a URI holding `,DNS:`.
 */
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** The first of `names` the certificate is for, or undefined. */
export function certificateNameMatch(cert: X509Certificate, names: readonly string[]): string | undefined {
  for (const name of names) {
    const hit = isIP(name)
      ? cert.checkIP(name)
      : cert.checkHost(name, { subject: 'default', wildcards: false, partialWildcards: false });
    if (hit !== undefined) return name;
  }
  return undefined;
}

/**
 * The configured name the peer of this socket proved with a certificate the
 * server verified (against `server.tls.ca_file`), or undefined: no TLS, no
 * certificate, not verified, or none of `names`.
 */
export function peerCertificateName(socket: unknown, names: readonly string[]): string | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (names.length === 0 || !tls.authorized || typeof tls.getPeerX509Certificate !== 'function')
    return undefined;
  const cert = tls.getPeerX509Certificate();
  return cert ? certificateNameMatch(cert, names) : undefined;
}
