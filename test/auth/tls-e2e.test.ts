/**
 * TLS end to end with certificates made at test time (openssl): RM and JR
 * over HTTPS in both directions, first with client certificates required
 * everywhere (the JR authenticates to the RM's internal endpoints by its
 * certificate name), then server-only TLS trusting a private CA (the JR uses
 * the internal token). Clients without a certificate, with one from another
 * CA, or not trusting the CA are refused; spinc talks HTTPS with --ca,
 * --cert/--key or SPINC_CA.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  type HarnessTls,
  harnessAgent,
  type ServiceProcess,
  startJr,
  startRm,
} from '../support/system.js';
import {
  type AuthFiles,
  as,
  http,
  INTERNAL_TOKEN,
  messageOf,
  runToEnd,
  SPECS,
  spinc,
  tokenOf,
  until,
  writeAuthFiles,
} from './support/auth.js';
import { makeTestPki, type TestPki } from './support/certs.js';

let pki: TestPki;
let files: AuthFiles;

beforeAll(() => {
  pki = makeTestPki();
  files = writeAuthFiles();
});

/** The error of a call that must not get an HTTP answer. */
async function refused(url: string, agent: HttpsAgent | undefined): Promise<string> {
  const err = await http(url, 'GET', '/api/v1/requests', undefined, as('dev'), agent).then(
    (a) => new Error(`answered ${a.status}`),
    (e: Error & { code?: string }) => e,
  );
  expect(err.message).not.toMatch(/^answered/);
  return `${(err as { code?: string }).code ?? ''} ${err.message}`;
}

/** A JR certificate: its name for auth.internal_client_names and the IP of its advertised URL. */
const JR_CERT_EXT = 'subjectAltName=DNS:job-runner,IP:127.0.0.1\nextendedKeyUsage=clientAuth';

describe('mutual TLS between RM and JR, client certificates required', () => {
  let rm: ServiceProcess;
  let jr: ServiceProcess;
  let aliceTls: HarnessTls;
  let alice: HttpsAgent;

  /** The services' own copies of their client certificates (the SIGHUP test replaces them). */
  let rmCert: { cert: string; key: string };
  let jrCert: { cert: string; key: string };
  let jrLeaf: { cert: string; key: string };

  beforeAll(async () => {
    const copy = (pair: { cert: string; key: string }, name: string) => {
      const own = { cert: join(files.dir, `${name}.crt`), key: join(files.dir, `${name}.key`) };
      copyFileSync(pair.cert, own.cert);
      copyFileSync(pair.key, own.key);
      return own;
    };
    rmCert = copy(pki.client('request-manager'), 'rm-client');
    // The JR's certificate is for its name and for the host of its URL (the RM checks both).
    jrLeaf = pki.leaf('jr-leaf', 'job-runner', JR_CERT_EXT);
    jrCert = copy(jrLeaf, 'jr-client');
    aliceTls = { ca: pki.ca.cert, ...pki.client('alice') };
    alice = harnessAgent(aliceTls);
    const [rmPort, jrPort] = [await freePort(), await freePort()];
    const config = join(files.dir, 'mtls-rm.yaml');
    // Only the JR's certificate name may call internal endpoints; users (alice) authenticate with tokens.
    writeFileSync(config, `auth:\n  internal_client_names: [job-runner]\n  tokens_file: ${files.tokens}\n`);
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      port: rmPort,
      jrUrl: `https://127.0.0.1:${jrPort}`,
      configFile: config,
      tls: aliceTls,
      env: {
        SPINCYCLE_SERVER_TLS_CERT_FILE: pki.server.cert,
        SPINCYCLE_SERVER_TLS_KEY_FILE: pki.server.key,
        SPINCYCLE_SERVER_TLS_CA_FILE: pki.ca.cert,
        SPINCYCLE_JR_CLIENT_TLS_CERT_FILE: rmCert.cert,
        SPINCYCLE_JR_CLIENT_TLS_KEY_FILE: rmCert.key,
        SPINCYCLE_JR_CLIENT_TLS_CA_FILE: pki.ca.cert,
        LOG_LEVEL: 'info',
      },
    });
    jr = await startJr({
      rmUrl: rm.url,
      port: jrPort,
      tls: aliceTls,
      env: {
        SPINCYCLE_SERVER_TLS_CERT_FILE: pki.server.cert,
        SPINCYCLE_SERVER_TLS_KEY_FILE: pki.server.key,
        SPINCYCLE_SERVER_TLS_CA_FILE: pki.ca.cert,
        SPINCYCLE_RM_CLIENT_TLS_CERT_FILE: jrCert.cert,
        SPINCYCLE_RM_CLIENT_TLS_KEY_FILE: jrCert.key,
        SPINCYCLE_RM_CLIENT_TLS_CA_FILE: pki.ca.cert,
        // Only the RM's certificate name may call the JR's API.
        SPINCYCLE_AUTH_RM_CLIENT_NAMES: 'request-manager',
        SPINCYCLE_HEARTBEAT_INTERVAL: '300ms',
        LOG_LEVEL: 'info',
      },
    });
    expect(rm.url).toMatch(/^https:/);
    expect(jr.url).toMatch(/^https:/);
  });
  afterAll(async () => {
    await jr?.stop();
    await rm?.stop();
  });

  it('a request runs end to end over HTTPS both ways; the JR is authenticated by its certificate', async () => {
    const r = await runToEnd(rm.url, 'dep', { app: 'tls' }, alice);
    expect(r.state).toBe(State.COMPLETE);
    expect(r.finishedJobs).toBe(r.totalJobs);
    const logs = (await http(rm.url, 'GET', `/api/v1/requests/${r.id}/log`, undefined, as('dev'), alice))
      .json;
    expect((logs as unknown[]).length).toBe(r.totalJobs);
  });

  type Status = { jobs: Array<{ requestId: string; name: string }>; unreachable?: Array<{ jrURL: string }> };
  const runningStatus = async () =>
    (await http(rm.url, 'GET', '/api/v1/status/running', undefined, as('dev'), alice)).json as Status;
  const stop = async (id: string) =>
    (await http(rm.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('dep'), alice)).status;

  /** A request whose `nap` job runs for `ms`, once status/running shows it; with that status. */
  async function napping(ms: string): Promise<{ id: string; status: Status }> {
    const res = await http(
      rm.url,
      'POST',
      '/api/v1/requests',
      { type: 'deploy', args: { app: 'slow', ms } },
      as('dep'),
      alice,
    );
    const id = (res.json as { id: string }).id;
    const status = await until('the sleep job to run', async () => {
      const s = await runningStatus();
      return s.jobs.some((j) => j.requestId === id && j.name === 'nap') ? s : undefined;
    });
    return { id, status };
  }

  it('status/running reaches the JR over mutual TLS', async () => {
    const { id, status } = await napping('3000');
    expect(status.unreachable ?? []).toEqual([]);
    expect(await stop(id)).toBe(200);
  });

  it('SIGHUP: new client certificates take effect for new calls, RM → JR and JR → RM', async () => {
    const { id } = await napping('60000');
    const napRuns = async () =>
      (await runningStatus()).jobs.some((j) => j.requestId === id) ? true : undefined;
    const swap = (own: { cert: string; key: string }, to: { cert: string; key: string }) => {
      copyFileSync(to.cert, own.cert);
      copyFileSync(to.key, own.key);
    };
    const hupUntil = async (svc: ServiceProcess, what: RegExp) => {
      const seen = svc.log.match(new RegExp(what, 'g'))?.length ?? 0;
      svc.proc.kill('SIGHUP');
      await until(`${svc.name} to log ${what}`, async () =>
        (svc.log.match(new RegExp(what, 'g'))?.length ?? 0) > seen ? true : undefined,
      );
    };
    const good = { rm: pki.client('request-manager'), jr: jrLeaf };

    // RM → JR: a certificate from a CA the JR does not trust makes it unreachable; the right one mends it.
    swap(rmCert, pki.rogue.client);
    await hupUntil(rm, /"message":"reloaded"[^\n]*jr_client\.tls/);
    expect((await runningStatus()).unreachable?.map((u) => u.jrURL)).toEqual([jr.url]);
    swap(rmCert, good.rm);
    await hupUntil(rm, /"message":"reloaded"[^\n]*jr_client\.tls/);
    expect(await napRuns()).toBe(true);

    // JR → RM: its heartbeats are refused with the wrong certificate and get through again with the right one.
    swap(jrCert, pki.rogue.client);
    await hupUntil(jr, /"message":"reloaded"[^\n]*rm_client\.tls/);
    const failures = jr.log.match(/heartbeat to the RM failed/g)?.length ?? 0;
    await until('a heartbeat to fail', async () =>
      (jr.log.match(/heartbeat to the RM failed/g)?.length ?? 0) > failures ? true : undefined,
    );
    swap(jrCert, good.jr);
    await hupUntil(jr, /heartbeat to the RM works again/);
    expect(jr.proc.exitCode).toBeNull();
    expect(rm.proc.exitCode).toBeNull();
    expect(await stop(id)).toBe(200);
  });

  it('clients without a certificate, with one from another CA, or not trusting the CA are refused (RM and JR)', async () => {
    for (const url of [rm.url, jr.url]) {
      expect(
        await refused(url, new HttpsAgent({ ca: harnessAgent({ ca: pki.ca.cert }).options.ca })),
      ).toMatch(/certificate required|ECONNRESET|socket hang up|EPROTO/i);
      expect(await refused(url, harnessAgent({ ca: pki.ca.cert, ...pki.rogue.client }))).toMatch(
        /unknown ca|ECONNRESET|socket hang up|EPROTO|alert/i,
      );
      expect(await refused(url, new HttpsAgent({}))).toMatch(
        /self.signed|unable to verify|UNABLE_TO_GET_ISSUER/i,
      );
    }
    // Plain HTTP to the HTTPS port gets no API answer either.
    const plain = await http(
      rm.url.replace('https:', 'http:'),
      'GET',
      '/api/v1/requests',
      undefined,
      as('dev'),
    ).then(
      (a) => a.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
  });

  it('internal endpoints: the job-runner certificate is enough; a user certificate with an admin token is not', async () => {
    const res = await http(
      rm.url,
      'POST',
      '/api/v1/requests',
      { type: 'deploy', args: { app: 'x', ms: '3000' } },
      as('dep'),
      alice,
    );
    const id = (res.json as { id: string }).id;
    const progress = { requestId: id, finishedJobs: 1 };
    const user = await http(rm.url, 'PUT', `/api/v1/requests/${id}/progress`, progress, as('root'), alice);
    expect([user.status, messageOf(user)]).toEqual([
      401,
      'this endpoint is for Job Runners: internal token or client certificate required',
    ]);
    const jrAgent = harnessAgent({ ca: pki.ca.cert, ...jrLeaf });
    const asJr = { 'X-Spincycle-Job-Runner': jr.url };
    expect(
      (await http(rm.url, 'PUT', `/api/v1/requests/${id}/progress`, progress, asJr, jrAgent)).status,
    ).toBe(200);
    // A certificate for the JR's name but not for the host of the URL it claims: 403.
    const nameOnly = harnessAgent({ ca: pki.ca.cert, ...pki.client('job-runner') });
    const claimed = await http(rm.url, 'PUT', `/api/v1/requests/${id}/progress`, progress, asJr, nameOnly);
    expect([claimed.status, messageOf(claimed)]).toEqual([
      403,
      `Job Runner ${jr.url}: the client certificate (for job-runner) is not for host 127.0.0.1`,
    ]);
    // The JR certificate is no user credential.
    expect((await http(rm.url, 'GET', `/api/v1/requests/${id}`, undefined, {}, jrAgent)).status).toBe(401);
    await http(rm.url, 'PUT', `/api/v1/requests/${id}/stop`, undefined, as('dep'), alice);
  });

  it('spinc with --ca, --cert and --key (and a token); without a certificate or the CA it exits 3 naming TLS', async () => {
    const a = pki.client('alice');
    const env = { SPINC_ADDR: rm.url, SPINC_TOKEN: tokenOf('dep') };
    const ok = await spinc(
      ['start', 'deploy', 'app=cli', '--wait', '--ca', pki.ca.cert, '--cert', a.cert, '--key', a.key],
      env,
    );
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(ok.stdout).toContain('COMPLETE');
    const noCert = await spinc(['find', '--ca', pki.ca.cert], env);
    expect(noCert.code).toBe(3);
    expect(noCert.stderr).toMatch(
      /^spinc: TLS with the Request Manager at https:\/\/127\.0\.0\.1:\d+ failed: it requires a client certificate \(set --cert and --key, or SPINC_CERT and SPINC_KEY\)\n$/,
    );
    const noCa = await spinc(['find', '--cert', a.cert, '--key', a.key], env);
    expect(noCa.code).toBe(3);
    expect(noCa.stderr).toMatch(
      /^spinc: TLS with the Request Manager at \S+ failed: cannot verify its certificate: self-signed certificate in certificate chain \(set --ca or SPINC_CA to the CA that signed it\)\n$/,
    );
  });
});

describe('server TLS with a private CA, no client certificates; the JR uses the internal token', () => {
  let rm: ServiceProcess;
  let jr: ServiceProcess;
  const trustCa: HarnessTls = { ca: '' };
  /** The RM's own copy of the server certificate (the SIGHUP test replaces it). */
  const rmServer = { cert: '', key: '' };

  beforeAll(async () => {
    trustCa.ca = pki.ca.cert;
    rmServer.cert = join(files.dir, 'rm-server.crt');
    rmServer.key = join(files.dir, 'rm-server.key');
    copyFileSync(pki.server.cert, rmServer.cert);
    copyFileSync(pki.server.key, rmServer.key);
    const [rmPort, jrPort] = [await freePort(), await freePort()];
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      port: rmPort,
      jrUrl: `https://127.0.0.1:${jrPort}`,
      tls: trustCa,
      env: {
        SPINCYCLE_SERVER_TLS_CERT_FILE: rmServer.cert,
        SPINCYCLE_SERVER_TLS_KEY_FILE: rmServer.key,
        SPINCYCLE_JR_CLIENT_TLS_CA_FILE: pki.ca.cert,
        SPINCYCLE_AUTH_TOKENS_FILE: files.tokens,
        SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: files.internal,
      },
    });
    jr = await startJr({
      rmUrl: rm.url,
      port: jrPort,
      tls: trustCa,
      env: {
        SPINCYCLE_SERVER_TLS_CERT_FILE: pki.server.cert,
        SPINCYCLE_SERVER_TLS_KEY_FILE: pki.server.key,
        SPINCYCLE_RM_CLIENT_TLS_CA_FILE: pki.ca.cert,
        SPINCYCLE_RM_CLIENT_INTERNAL_TOKEN_FILE: files.internal,
      },
    });
  });
  afterAll(async () => {
    await jr?.stop();
    await rm?.stop();
  });

  it('a request runs end to end; clients must trust the CA', async () => {
    const agent = harnessAgent(trustCa);
    const r = await runToEnd(rm.url, 'dep', { app: 'ca-only' }, agent);
    expect(r.state).toBe(State.COMPLETE);
    expect(await refused(rm.url, new HttpsAgent({}))).toMatch(
      /self.signed|unable to verify|UNABLE_TO_GET_ISSUER/i,
    );
    // TLS does not replace the internal token here.
    const id = r.id;
    const finish = {
      requestId: id,
      state: State.COMPLETE,
      finishedAt: new Date().toISOString(),
      finishedJobs: 0,
    };
    const noToken = await http(rm.url, 'PUT', `/api/v1/requests/${id}/finish`, finish, as('root'), agent);
    expect(noToken.status).toBe(401);
    const withToken = await http(
      rm.url,
      'PUT',
      `/api/v1/requests/${id}/finish`,
      finish,
      { 'X-Spincycle-Internal-Token': INTERNAL_TOKEN },
      agent,
    );
    expect(withToken.status).not.toBe(401);
  });

  it('spinc trusts the CA from SPINC_CA or the config key ca', async () => {
    const env = { SPINC_ADDR: rm.url, SPINC_TOKEN: tokenOf('dev') };
    const viaEnv = await spinc(['find', '--json'], { ...env, SPINC_CA: pki.ca.cert });
    expect([viaEnv.code, viaEnv.stderr]).toEqual([0, '']);
    expect(Array.isArray(JSON.parse(viaEnv.stdout))).toBe(true);
    const config = join(files.dir, 'spinc.yaml');
    writeFileSync(config, `addr: ${rm.url}\nca: ${pki.ca.cert}\ntoken: ${tokenOf('dev')}\n`);
    const viaConfig = await spinc(['find'], { SPINC_CONFIG: config });
    expect([viaConfig.code, viaConfig.stderr]).toEqual([0, '']);
    const missing = await spinc(['find'], { ...env, SPINC_CA: join(files.dir, 'no-such-ca.pem') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^spinc: cannot read the ca file .*no-such-ca\.pem \(from SPINC_CA\)/);
  });

  it('SIGHUP serves a new certificate on new connections; a key that does not match keeps the old one', async () => {
    const other = makeTestPki();
    const oldCa = harnessAgent(trustCa);
    const newCa = harnessAgent({ ca: other.ca.cert });
    expect((await http(rm.url, 'GET', '/health', undefined, {}, oldCa)).status).toBe(200);
    copyFileSync(other.server.cert, rmServer.cert);
    copyFileSync(other.server.key, rmServer.key);
    rm.proc.kill('SIGHUP');
    await until('the RM to serve the new certificate', () =>
      http(rm.url, 'GET', '/health', undefined, {}, new HttpsAgent({ ca: readFileSync(other.ca.cert) })).then(
        (a) => a.status,
        () => undefined,
      ),
    );
    expect(await refused(rm.url, new HttpsAgent({ ca: readFileSync(pki.ca.cert) }))).toMatch(
      /unable to verify|self.signed|UNABLE_TO_GET_ISSUER/i,
    );
    // The old key with the new certificate: refused, the new pair stays.
    copyFileSync(pki.server.key, rmServer.key);
    rm.proc.kill('SIGHUP');
    await until('the reload error', async () =>
      /"message":"reload failed[^\n]*server\.tls/.test(rm.log) ? true : undefined,
    );
    expect((await http(rm.url, 'GET', '/health', undefined, {}, newCa)).status).toBe(200);
    expect(rm.proc.exitCode).toBeNull();
  });
});
