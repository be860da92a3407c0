/**
 * Certificates made at test time with the openssl CLI, into a temp dir: a CA,
 * a server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1), client
 * certificates with a given CN, and a second, untrusted CA. EC P-256 keys keep
 * it fast (a few ms per certificate).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface KeyPair {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The trusted CA. */
  ca: KeyPair;
  /** Server certificate for 127.0.0.1 signed by the CA (also usable as a client certificate). */
  server: KeyPair;
  /** A client certificate signed by the CA with this CN. */
  client(cn: string): KeyPair;
  /** A CA nobody trusts, and a client certificate it signed. */
  rogue: { ca: KeyPair; client: KeyPair };
  /** A certificate signed by the CA with this CN and openssl extension lines (`subjectAltName=…`). */
  leaf(name: string, cn: string, ext: string): KeyPair;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): KeyPair {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

function makeLeaf(dir: string, ca: KeyPair, name: string, cn: string, ext: string): KeyPair {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    pair.key,
    '-out',
    csr,
    '-subj',
    `/CN=${cn}`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    pair.cert,
    '-days',
    '2',
    '-extfile',
    extFile,
  ]);
  return pair;
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'spincycle-pki-'));
  const ca = makeCa(dir, 'test-ca');
  const server = makeLeaf(
    dir,
    ca,
    'server',
    '127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth',
  );
  const clients = new Map<string, KeyPair>();
  const rogueCa = makeCa(dir, 'rogue-ca');
  const rogueClient = makeLeaf(dir, rogueCa, 'rogue-client', 'job-runner', 'extendedKeyUsage=clientAuth');
  return {
    dir,
    ca,
    server,
    client(cn: string) {
      let c = clients.get(cn);
      if (!c) {
        c = makeLeaf(dir, ca, `client-${cn}`, cn, 'extendedKeyUsage=clientAuth');
        clients.set(cn, c);
      }
      return c;
    },
    rogue: { ca: rogueCa, client: rogueClient },
    leaf: (name, cn, ext) => makeLeaf(dir, ca, name, cn, ext),
  };
}
