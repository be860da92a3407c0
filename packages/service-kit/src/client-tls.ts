/** The TLS side of the services' clients (RM → JR, JR → RM). */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import type { TlsFiles } from './server.js';

/**
 * An https agent (keep-alive) that presents the client certificate (cert + key)
 * and trusts the CA, when either is configured; undefined otherwise (plain http,
 * or the system's roots for https:// URLs). The files are read now: a reload
 * makes a new agent, so renewed files take effect for new connections.
 */
export function clientTlsAgent(tls: TlsFiles | undefined): HttpsAgent | undefined {
  const pair = Boolean(tls?.certFile && tls.keyFile);
  if (!tls || (!tls.caFile && !pair)) return undefined;
  return new HttpsAgent({
    keepAlive: true,
    ...(pair ? { cert: readFileSync(tls.certFile as string), key: readFileSync(tls.keyFile as string) } : {}),
    ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
  });
}

/** The reload step's name for a client's TLS files, or undefined when it has none. */
export function clientTlsStepName(prefix: string, tls: TlsFiles | undefined): string | undefined {
  const files = [tls?.certFile, tls?.keyFile, tls?.caFile].filter((f): f is string => Boolean(f));
  return files.length > 0 ? `${prefix} ${files.join(' ')}` : undefined;
}
