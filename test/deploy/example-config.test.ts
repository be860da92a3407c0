/**
 * The example configs in deploy/config load with the real config schemas, and
 * work together as shipped: a real RM and JR started from them (only paths,
 * addresses and the database substituted) run a request to COMPLETE over
 * mutual TLS, each admitting the other by certificate name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { State } from '@spincycle/protocol';
import { loadConfig } from '@spincycle/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JR_CONFIG_SCHEMA } from '../../services/job-runner/src/config.js';
import { RM_CONFIG_SCHEMA } from '../../services/request-manager/src/config.js';
import { runToEnd, SPECS, writeAuthFiles } from '../auth/support/auth.js';
import { makeTestPki } from '../auth/support/certs.js';
import {
  freePort,
  type HarnessTls,
  harnessAgent,
  newMysqlDatabase,
  REPO_ROOT,
  type ServiceProcess,
  startJr,
  startRm,
} from '../support/system.js';

const RM_EXAMPLE = join(REPO_ROOT, 'deploy/config/request-manager.yaml');
const JR_EXAMPLE = join(REPO_ROOT, 'deploy/config/job-runner.yaml');

describe('deploy/config examples', () => {
  it('the Request Manager example is valid', () => {
    const cfg = loadConfig(RM_CONFIG_SCHEMA, { file: RM_EXAMPLE, env: {} });
    expect(cfg['server.addr']).toBe('0.0.0.0:32308');
    expect(cfg['jr.lease']).toBe(30_000);
    expect(cfg['auth.strict']).toBe(true);
  });
  it('the Job Runner example is valid', () => {
    const cfg = loadConfig(JR_CONFIG_SCHEMA, { file: JR_EXAMPLE, env: {} });
    expect(cfg['jobs.max_concurrent']).toBe(200);
    expect(cfg['shutdown.grace']).toBe(20_000);
  });
});

describe('deploy/config examples run together', () => {
  let rm: ServiceProcess;
  let jr: ServiceProcess;
  let user: HarnessTls;

  beforeAll(async () => {
    const pki = makeTestPki();
    const files = writeAuthFiles();
    const both = 'extendedKeyUsage=serverAuth,clientAuth';
    const rmCert = pki.leaf('rm', 'rm.internal', `subjectAltName=DNS:rm.internal,IP:127.0.0.1\n${both}`);
    const jrCert = pki.leaf('jr', 'jr-1.internal', `subjectAltName=DNS:jr-1.internal,IP:127.0.0.1\n${both}`);
    const jrToRm = join(files.dir, 'jr-to-rm-token');
    const rmToJr = join(files.dir, 'rm-to-jr-token');
    writeFileSync(jrToRm, 'jr-to-rm-token-0123456789\n');
    writeFileSync(rmToJr, 'rm-to-jr-token-0123456789\n');
    const [rmPort, jrPort] = [await freePort(), await freePort()];
    const rmUrl = `https://127.0.0.1:${rmPort}`;
    const jrUrl = `https://127.0.0.1:${jrPort}`;
    // What an operator edits: file paths, host names, the database. Nothing about how the two meet.
    const substitute = (text: string) =>
      text
        .replaceAll('/etc/spincycle/tls/ca.crt', pki.ca.cert)
        .replaceAll('/etc/spincycle/tls/rm.crt', rmCert.cert)
        .replaceAll('/etc/spincycle/tls/rm.key', rmCert.key)
        .replaceAll('/etc/spincycle/tls/jr.crt', jrCert.cert)
        .replaceAll('/etc/spincycle/tls/jr.key', jrCert.key)
        .replaceAll('/etc/spincycle/jr-to-rm-token', jrToRm)
        .replaceAll('/etc/spincycle/rm-to-jr-token', rmToJr)
        .replaceAll('/etc/spincycle/tokens.yaml', files.tokens)
        .replaceAll('/etc/spincycle/specs', SPECS)
        // The built-in jobs (what the test specs use) instead of a jobs module; a section left empty goes.
        .replaceAll(/^ {2}module: \/opt\/spincycle\/jobs\/index\.js\n/gm, '')
        .replaceAll(/^jobs:\n(?: {2}#.*\n)*(?=\S)/gm, '')
        .replaceAll('0.0.0.0:32308', `127.0.0.1:${rmPort}`)
        .replaceAll('0.0.0.0:32307', `127.0.0.1:${jrPort}`)
        .replaceAll('https://rm.internal:32308', rmUrl)
        .replaceAll(/https:\/\/jr(-1)?\.internal:32307/g, jrUrl);
    const mysqlUrl = await newMysqlDatabase();
    const rmFile = join(files.dir, 'request-manager.yaml');
    writeFileSync(
      rmFile,
      substitute(readFileSync(RM_EXAMPLE, 'utf8')).replace(
        /dsn: mysql:\/\/spincycle:change-me@db\.internal:3306\/spincycle/,
        `dsn: ${mysqlUrl}`,
      ),
    );
    const jrFile = join(files.dir, 'job-runner.yaml');
    writeFileSync(jrFile, substitute(readFileSync(JR_EXAMPLE, 'utf8')));
    for (const f of [rmFile, jrFile])
      expect(readFileSync(f, 'utf8')).not.toMatch(/\/etc\/|\/opt\/|\.internal:/);

    user = { ca: pki.ca.cert, ...pki.client('alice') };
    // The harness's own settings (addresses, specs) are the file's: only the log level is added.
    const env = { SPINCYCLE_SERVER_ADDR: undefined, SPINCYCLE_SPECS_DIR: undefined, LOG_LEVEL: 'warn' };
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl,
      port: rmPort,
      configFile: rmFile,
      tls: user,
      env: { ...env, SPINCYCLE_DATA_DIR: undefined, SPINCYCLE_JR_CLIENT_URL: undefined },
    });
    jr = await startJr({
      rmUrl,
      port: jrPort,
      configFile: jrFile,
      tls: user,
      env: { ...env, SPINCYCLE_RM_CLIENT_URL: undefined },
    });
  });
  afterAll(async () => {
    await jr?.stop();
    await rm?.stop();
  });

  it('a request runs to COMPLETE', async () => {
    const r = await runToEnd(rm.url, 'dep', { app: 'example' }, harnessAgent(user));
    expect(r.state).toBe(State.COMPLETE);
    expect(r.finishedJobs).toBe(r.totalJobs);
  });
});
