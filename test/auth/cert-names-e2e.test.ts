/**
 * Client certificates admit a Job Runner (RM's `auth.internal_client_names`)
 * or a Request Manager (JR's `auth.rm_client_names`) only when the
 * certificate is for a listed name as TLS matches names (DNS/IP
 * subjectAltNames, the CN only without DNS names): not a URI or a CN beside
 * other DNS names, and never a certificate that merely comes from the CA.
 * Real processes, certificates made with openssl.
 */

import { writeFileSync } from 'node:fs';
import type { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  type HarnessTls,
  harnessAgent,
  type ServiceProcess,
  startJr,
  startRm,
} from '../support/system.js';
import { type AuthFiles, as, http, messageOf, SPECS, writeAuthFiles } from './support/auth.js';
import { makeTestPki, type TestPki } from './support/certs.js';

let pki: TestPki;
let files: AuthFiles;
const client = 'extendedKeyUsage=clientAuth';

/** Certificates that must not pass for `name` (CN attacker unless said). */
function impostors(name: string): Record<string, HttpsAgent> {
  const agent = (pair: { cert: string; key: string }) => harnessAgent({ ca: pki.ca.cert, ...pair });
  return {
    'a URI holding ,DNS:': agent(
      pki.leaf(
        `uri-comma-${name}`,
        'attacker',
        `subjectAltName=@alt\n${client}\n[alt]\nURI.1=x,DNS:${name},y`,
      ),
    ),
    'a URI equal to the name': agent(
      pki.leaf(`uri-${name}`, 'attacker', `subjectAltName=URI:${name}\n${client}`),
    ),
    'the CN beside another DNS name': agent(
      pki.leaf(`cn-${name}`, name, `subjectAltName=DNS:other.example\n${client}`),
    ),
    'another name from the same CA': agent(pki.client('alice')),
  };
}

const spawnEnv = (extra: Record<string, string>) => ({
  SPINCYCLE_SERVER_TLS_CERT_FILE: pki.server.cert,
  SPINCYCLE_SERVER_TLS_KEY_FILE: pki.server.key,
  SPINCYCLE_SERVER_TLS_CA_FILE: pki.ca.cert,
  ...extra,
});

beforeAll(() => {
  pki = makeTestPki();
  files = writeAuthFiles();
});

describe('RM: auth.internal_client_names', () => {
  let rm: ServiceProcess;
  let tls: HarnessTls;
  let id = '';

  beforeAll(async () => {
    tls = { ca: pki.ca.cert, ...pki.client('alice') };
    const config = join(files.dir, 'names-rm.yaml');
    writeFileSync(config, `auth:\n  internal_client_names: [job-runner]\n  tokens_file: ${files.tokens}\n`);
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `https://127.0.0.1:${await freePort()}`,
      configFile: config,
      tls,
      env: spawnEnv({}),
    });
    const res = await http(
      rm.url,
      'POST',
      '/api/v1/requests',
      { type: 'deploy', args: { app: 'n' } },
      as('dep'),
      harnessAgent(tls),
    );
    id = (res.json as { id: string }).id;
  });
  afterAll(async () => {
    await rm?.stop();
  });

  const progress = (agent: HttpsAgent) =>
    http(rm.url, 'PUT', `/api/v1/requests/${id}/progress`, { requestId: id, finishedJobs: 0 }, {}, agent);

  it('a certificate for job-runner (CN without SANs, or DNS SAN) is a Job Runner', async () => {
    for (const pair of [
      pki.client('job-runner'),
      pki.leaf('dns-jr', 'x', `subjectAltName=DNS:job-runner\n${client}`),
    ])
      expect((await progress(harnessAgent({ ca: pki.ca.cert, ...pair }))).status).not.toBe(401);
  });

  it('a URI SAN, a CN beside other DNS names or another certificate of the CA is not', async () => {
    for (const [what, agent] of Object.entries(impostors('job-runner'))) {
      const res = await progress(agent);
      expect([what, res.status, messageOf(res)]).toEqual([
        what,
        401,
        'this endpoint is for Job Runners: internal token or client certificate required',
      ]);
    }
  });

  it('refuses to start with client certificates and no name list (nor token)', async () => {
    const bare = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `https://127.0.0.1:${await freePort()}`,
      waitHealthy: false,
      env: spawnEnv({}),
    });
    expect(await bare.exited).toBe(2);
    expect(bare.log).toContain("'auth.internal_client_names' is empty");
    expect(bare.log).toContain("'server.tls.ca_file'");
  });
});

describe('JR: auth.rm_client_names', () => {
  let jr: ServiceProcess;

  beforeAll(async () => {
    jr = await startJr({
      rmUrl: `http://127.0.0.1:${await freePort()}`,
      tls: { ca: pki.ca.cert, ...pki.client('request-manager') },
      env: spawnEnv({ SPINCYCLE_AUTH_RM_CLIENT_NAMES: 'request-manager' }),
    });
  });
  afterAll(async () => {
    await jr?.stop();
  });

  const running = (agent: HttpsAgent) => http(jr.url, 'GET', '/api/v1/status/running', undefined, {}, agent);

  it('a certificate for request-manager may call the API; impostors get 401', async () => {
    expect((await running(harnessAgent({ ca: pki.ca.cert, ...pki.client('request-manager') }))).status).toBe(
      200,
    );
    for (const [what, agent] of Object.entries(impostors('request-manager'))) {
      const res = await running(agent);
      expect([what, res.status, messageOf(res)]).toEqual([
        what,
        401,
        'this Job Runner takes calls from Request Managers only: a client certificate named in auth.rm_client_names required',
      ]);
    }
  });

  it('refuses to start with client certificates and no name list (nor token)', async () => {
    const bare = await startJr({
      rmUrl: `http://127.0.0.1:${await freePort()}`,
      waitHealthy: false,
      env: spawnEnv({}),
    });
    expect(await bare.exited).toBe(2);
    expect(bare.log).toContain("'auth.rm_client_names' is empty");
  });
});
