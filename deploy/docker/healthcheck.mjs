// Docker HEALTHCHECK of the Spin Cycle image (it has node, no curl): GET /health of the
// service in this container; exit 0 when it answers 200, else 1.
// The URL: HEALTHCHECK_URL when set; else the port of SPINCYCLE_SERVER_ADDR; else the RM's
// default port, then the JR's. https when SPINCYCLE_SERVER_TLS_CERT_FILE is set (liveness
// only: the certificate is not checked).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export const HEALTH_PATH = '/health';
const DEFAULT_PORTS = [32308, 32307];

function candidates(env) {
  if (env.HEALTHCHECK_URL) return [env.HEALTHCHECK_URL];
  const scheme = env.SPINCYCLE_SERVER_TLS_CERT_FILE ? 'https' : 'http';
  const port = /:(\d+)$/.exec(env.SPINCYCLE_SERVER_ADDR ?? '')?.[1];
  return (port ? [Number(port)] : DEFAULT_PORTS).map((p) => `${scheme}://127.0.0.1:${p}${HEALTH_PATH}`);
}

function ok(url) {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = get(url, { method: 'GET', timeout: 4000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function healthy(env = process.env) {
  for (const url of candidates(env)) if (await ok(url)) return true;
  return false;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit((await healthy()) ? 0 : 1);
