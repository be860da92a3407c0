/** Config loading (docs/compatibility.md#configuration): defaults, file, environment, errors that name the key. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { advertisedBaseUrl } from '../src/app.js';
import { loadJrConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'jr-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('JR config', () => {
  it('has the documented defaults', () => {
    const c = loadJrConfig([], {});
    expect(c).toMatchObject({
      addr: '127.0.0.1:32307',
      advertiseUrl: undefined,
      rmUrls: ['http://127.0.0.1:32308'],
      rmTimeoutMs: 10_000,
      jobsModule: undefined,
      maxConcurrentJobs: 0,
      maxLogBytes: 1024 * 1024,
      shutdownGraceMs: 20_000,
      logLevel: 'info',
      logFormat: undefined,
    });
    expect(advertisedBaseUrl(c, 'http://127.0.0.1:32307')).toBe('http://127.0.0.1:32307');
  });

  it('reads a file, and the environment overrides it (empty env vars count as unset)', () => {
    const f = file(
      'a.yaml',
      [
        'server:',
        '  addr: 10.0.0.5:9000',
        '  advertise_url: https://jr-1.example:9000/',
        'rm_client:',
        '  url: http://rm-a:32308, http://rm-b:32308',
        '  timeout: 3s',
        'jobs:',
        '  module: ./jobs.mjs',
        '  max_concurrent: 4',
        '  max_log_bytes: 65536',
        'shutdown:',
        '  grace: 45s',
        'log:',
        '  level: debug',
        '  format: pretty',
      ].join('\n'),
    );
    // Listening beyond loopback needs a credential for callers of the API.
    const token = file('token', 'rm-to-jr-token-0123456789\n');
    const c = loadJrConfig([f], {
      SPINCYCLE_JOBS_MAX_CONCURRENT: '8',
      SPINCYCLE_RM_CLIENT_TIMEOUT: '',
      SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: token,
    });
    expect(c).toMatchObject({
      addr: '10.0.0.5:9000',
      advertiseUrl: 'https://jr-1.example:9000',
      rmUrls: ['http://rm-a:32308', 'http://rm-b:32308'],
      rmTimeoutMs: 3000,
      jobsModule: './jobs.mjs',
      maxConcurrentJobs: 8,
      maxLogBytes: 65_536,
      shutdownGraceMs: 45_000,
      logLevel: 'debug',
      logFormat: 'pretty',
    });
    expect(advertisedBaseUrl(c, 'http://10.0.0.5:9000')).toBe('https://jr-1.example:9000');
  });

  it('takes every key from its environment variable', () => {
    const c = loadJrConfig([], {
      SPINCYCLE_SERVER_ADDR: '127.0.0.1:4000',
      SPINCYCLE_RM_CLIENT_URL: 'http://rm:1',
      SPINCYCLE_JOBS_MODULE: '/x/jobs.mjs',
      SPINCYCLE_JOBS_MAX_CONCURRENT: '2',
      SPINCYCLE_JOBS_MAX_LOG_BYTES: '4096',
      SPINCYCLE_SHUTDOWN_GRACE: '5s',
      SPINCYCLE_SERVER_TLS_CERT_FILE: '/c.pem',
      SPINCYCLE_SERVER_TLS_KEY_FILE: '/k.pem',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    });
    expect(c).toMatchObject({
      addr: '127.0.0.1:4000',
      rmUrls: ['http://rm:1'],
      jobsModule: '/x/jobs.mjs',
      maxConcurrentJobs: 2,
      maxLogBytes: 4096,
      shutdownGraceMs: 5000,
      logLevel: 'warn',
      logFormat: 'json',
    });
    // https when the server has a certificate and key
    expect(advertisedBaseUrl(c, 'https://127.0.0.1:4000')).toBe('https://127.0.0.1:4000');
  });

  it.each([
    ['an unknown key', 'server:\n  adr: x:1\n', "unknown key 'server.adr'"],
    [
      'a bad number',
      'jobs:\n  max_concurrent: lots\n',
      "'jobs.max_concurrent' must be a non-negative integer",
    ],
    [
      'a negative number',
      'jobs:\n  max_concurrent: -1\n',
      "'jobs.max_concurrent' must be a non-negative integer",
    ],
    [
      'no limit on job-log text',
      'jobs:\n  max_log_bytes: 0\n',
      "'jobs.max_log_bytes' must be a positive integer",
    ],
    ['a bad duration', 'shutdown:\n  grace: forever\n', "'shutdown.grace' must be a duration"],
    ['an empty server.addr', 'server:\n  addr: ""\n', 'server.addr not set in config'],
    ['an addr without port', 'server:\n  addr: localhost\n', "'server.addr'"],
    ['a bad RM URL', 'rm_client:\n  url: "http://ok:1,ftp://no"\n', "'rm_client.url' must be an http(s) URL"],
    [
      'a cert without key',
      'server:\n  tls:\n    cert_file: /c.pem\n',
      "'server.tls.key_file' must be set together with 'server.tls.cert_file'",
    ],
    ['a bad log level', 'log:\n  level: loud\n', "'log.level' must be one of"],
  ])('stops start-up on %s, naming the key', (_what, text, message) => {
    expect(() => loadJrConfig([file('bad.yaml', text)], {})).toThrow(message);
  });

  it('a config file given on the command line must exist', () => {
    expect(() => loadJrConfig([join(dir, 'missing.yaml')], {})).toThrow(/missing\.yaml/);
  });

  it('advertises the real address when listening on port 0 or a bare :port', () => {
    expect(
      advertisedBaseUrl(loadJrConfig([], { SPINCYCLE_SERVER_ADDR: '127.0.0.1:0' }), 'http://127.0.0.1:41234'),
    ).toBe('http://127.0.0.1:41234');
    expect(
      advertisedBaseUrl(loadJrConfig([], { SPINCYCLE_SERVER_ADDR: ':41235' }), 'http://127.0.0.1:41235'),
    ).toBe('http://127.0.0.1:41235');
  });

  it('main.js exits 2 with the message when the config is bad', () => {
    const main = resolve(__dirname, '../dist/main.js');
    const r = spawnSync(process.execPath, [main, file('bad2.yaml', 'jobs:\n  max_concurrent: x\n')], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("'jobs.max_concurrent' must be a non-negative integer");
  });
});
