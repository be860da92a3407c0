/**
 * Services without credentials: the JR (its API runs commands) refuses to
 * listen beyond loopback, and on loopback both the JR and an RM with no
 * authentication at all answer only calls addressed to a loopback name, so a
 * web page cannot reach them by DNS rebinding. Real processes over HTTP.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess, startJr, startRm } from '../support/system.js';
import { SPECS, writeAuthFiles } from './support/auth.js';

/** GET `path` with this Host header (fetch does not let a caller set it). */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { Host: host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const refusedHost = (service: string, host: string) => ({
  status: 403,
  body: {
    message: `Host '${host}' refused: this ${service} runs without credentials and answers only calls to localhost, 127.0.0.1 or [::1]`,
    requestId: '',
    httpStatus: 403,
  },
});

describe('a Job Runner without credentials', () => {
  let jr: ServiceProcess;
  let rm: ServiceProcess;
  beforeAll(async () => {
    jr = await startJr({ rmUrl: `http://127.0.0.1:${await freePort()}` });
    rm = await startRm({ db: 'sqlite', specsDir: SPECS, jrUrl: jr.url });
  });
  afterAll(async () => {
    await jr?.stop();
    await rm?.stop();
  });

  it('refuses to listen on a non-loopback address, naming the keys to set', async () => {
    const port = await freePort();
    const open = await startJr({
      rmUrl: `http://127.0.0.1:${await freePort()}`,
      port,
      waitHealthy: false,
      env: { SPINCYCLE_SERVER_ADDR: `0.0.0.0:${port}` },
    });
    expect(await open.exited).toBe(2);
    expect(open.log).toContain(`config: 'server.addr' 0.0.0.0:${port} is not a loopback address`);
    expect(open.log).toContain(
      "set 'auth.internal_token_file' (or 'rm_client.internal_token_file'), or 'server.tls.ca_file' with 'auth.rm_client_names'",
    );
  });

  it('listens beyond loopback once a token authenticates callers', async () => {
    const port = await freePort();
    const withToken = await startJr({
      rmUrl: `http://127.0.0.1:${await freePort()}`,
      port,
      env: {
        SPINCYCLE_SERVER_ADDR: `0.0.0.0:${port}`,
        SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: writeAuthFiles().internal,
      },
    });
    // Credentials configured: no Host check, the token is what counts.
    expect((await getWithHost(withToken.url, '/api/v1/status/running', 'evil.example')).status).toBe(401);
    await withToken.stop();
  });

  it('on loopback: a call addressed to another name is refused (403), loopback names are served', async () => {
    const { port } = new URL(jr.url);
    for (const host of ['evil.example', `evil.example:${port}`, `10.0.0.1:${port}`])
      expect(await getWithHost(jr.url, '/api/v1/status/running', host)).toEqual(
        refusedHost('Job Runner', host),
      );
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`])
      expect((await getWithHost(jr.url, '/api/v1/status/running', host)).status).toBe(200);
  });

  it('an RM with no authentication at all does the same; one with authentication does not need to', async () => {
    const { port } = new URL(rm.url);
    expect(await getWithHost(rm.url, '/api/v1/requests', `evil.example:${port}`)).toEqual(
      refusedHost('Request Manager', `evil.example:${port}`),
    );
    expect((await getWithHost(rm.url, '/api/v1/requests', `localhost:${port}`)).status).toBe(200);
    const files = writeAuthFiles();
    const authed = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: jr.url,
      env: { SPINCYCLE_AUTH_TOKENS_FILE: files.tokens, SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: files.internal },
    });
    expect((await getWithHost(authed.url, '/api/v1/requests', 'evil.example')).status).toBe(401);
    await authed.stop();
  });
});
