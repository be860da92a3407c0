/**
 * TLS on both sides: the JR serving HTTPS (and advertising https://), and the
 * JR calling an HTTPS RM that requires a client certificate. Certificates are
 * made with openssl for the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JrClient, State } from '@spincycle/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RmGateway } from '../src/rm-gateway.js';
import { makeChain, reqId, startTestJr } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'jr-tls-'));
const f = (name: string) => join(dir, name);
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

beforeAll(() => {
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
  );
  for (const who of ['server', 'client']) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
      '-subj',
      `/CN=${who}`,
    );
    const ext = f(`${who}.ext`);
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`]);
    ssl(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.pem`,
      '-days',
      '2',
      '-extfile',
      ext,
    );
  }
});

describe('TLS', () => {
  it('serves HTTPS when a certificate and key are configured, and advertises https://', async () => {
    const jr = await startTestJr({
      config: { 'server.tls.cert_file': f('server.pem'), 'server.tls.key_file': f('server.key') },
    });
    try {
      expect(jr.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(jr.baseUrl).toBe(jr.url);
      const client = new JrClient({
        baseURL: jr.url,
        retry: { attempts: 1 },
        httpsAgent: new https.Agent({ ca: readFileSync(f('ca.pem')) }),
      });
      const id = reqId();
      const accepted = await client.startChain(makeChain(id, [{ id: 'a' }]));
      expect(accepted.jrURL).toBe(jr.url);
      expect((await jr.sink.finished(id)).state).toBe(State.COMPLETE);
    } finally {
      await jr.close();
    }
  });

  describe('calling an HTTPS RM that requires client certificates', () => {
    let server: https.Server;
    let url: string;
    const seen: string[] = [];
    beforeAll(async () => {
      server = https.createServer(
        {
          cert: readFileSync(f('server.pem')),
          key: readFileSync(f('server.key')),
          ca: readFileSync(f('ca.pem')),
          requestCert: true,
          rejectUnauthorized: true,
        },
        (req, res) => {
          seen.push(`${req.method} ${req.url}`);
          req.resume();
          req.on('end', () => res.writeHead(200).end());
        },
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((r) => server.close(() => r()));
    });

    const body = { logs: [], progress: [{ requestId: 'r1', finishedJobs: 1 }], finishes: [] };

    it('works with the client certificate and the CA', async () => {
      const gw = new RmGateway([url], {
        timeoutMs: 5000,
        tls: { certFile: f('client.pem'), keyFile: f('client.key'), caFile: f('ca.pem') },
      });
      await gw.report(body);
      expect(seen).toContain('POST /api/v1/internal/reports');
    });

    it('fails without a client certificate, or without trusting the CA', async () => {
      await expect(
        new RmGateway([url], { timeoutMs: 5000, tls: { caFile: f('ca.pem') } }).report(body),
      ).rejects.toMatchObject({ status: undefined });
      await expect(
        new RmGateway([url], {
          timeoutMs: 5000,
          tls: { certFile: f('client.pem'), keyFile: f('client.key') },
        }).report(body),
      ).rejects.toThrow(/certificate/);
    });
  });
});
