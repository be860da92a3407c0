import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@spincycle/service-kit';
import { describe, expect, it } from 'vitest';
import { jrUrls, loadRmConfig, redactRmConfig, resolveRmConfig, sqliteFile } from '../src/config.js';
import { dataSourceOptions } from '../src/db/data-source.js';
import { parseMysqlDsn } from '../src/db/mysql-dsn.js';

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'rm-cfg-')), 'rm.yaml');
  writeFileSync(p, text);
  return p;
}

describe('RM config', () => {
  it('when nothing is set, then the documented defaults apply and SQLite is used', () => {
    const cfg = loadRmConfig({ env: {} });
    expect(cfg['server.addr']).toBe('127.0.0.1:32308');
    expect(cfg['mysql.dsn']).toBeUndefined();
    expect(cfg['data.dir']).toBe('.data');
    expect(sqliteFile(cfg)).toMatch(/\.data\/spincycle\.sqlite$/);
    expect(cfg['specs.dir']).toBe('specs/');
    expect(cfg['jr_client.url']).toBe('http://127.0.0.1:32307');
    expect(cfg['jr_client.timeout']).toBe(10_000);
    expect(cfg['auth.admin_roles']).toEqual([]);
    // Unset: true once authentication is configured (auth/setup.ts).
    expect(cfg['auth.strict']).toBeUndefined();
    expect(cfg['resumer.interval']).toBe(10_000);
    expect(cfg['resumer.ttl']).toBe(3_600_000);
  });

  it('resolves once into a typed config: durations in ms, URLs split, TLS paired, body limits in bytes', () => {
    const cfg = resolveRmConfig(
      loadRmConfig({
        env: {
          SPINCYCLE_JR_CLIENT_URL: 'http://a:1, https://b:2/',
          SPINCYCLE_JR_LEASE: '9s',
          SPINCYCLE_SERVER_TLS_CERT_FILE: '/c.pem',
          SPINCYCLE_SERVER_TLS_KEY_FILE: '/k.pem',
          SPINCYCLE_LIMITS_CREATE_RATE: '2/s',
        },
      }),
    );
    expect(cfg).toMatchObject({
      addr: '127.0.0.1:32308',
      jrUrls: ['http://a:1', 'https://b:2'],
      jrLeaseMs: 9000,
      jrTimeoutMs: 10_000,
      serverTls: { certFile: '/c.pem', keyFile: '/k.pem', caFile: undefined },
      bodyLimit: 1024 * 1024,
      internalBodyLimit: 64 * 1024 * 1024,
      createRate: { perSecond: 2, burst: 2 },
      resumerTtlMs: 3_600_000,
    });
    expect(cfg.values['jr.lease']).toBe(9000);
  });

  it('when a file and environment variables are given, then env wins over the file over defaults', () => {
    const f = file(
      'server:\n  addr: 0.0.0.0:1\nmysql:\n  dsn: "root:pw@tcp(db:3306)/sc"\njr_client:\n  url: http://a:1, http://b:2/\n  timeout: 2s\nauth:\n  admin_roles: [ops]\n  strict: true\n',
    );
    const cfg = loadRmConfig({
      file: f,
      env: { SPINCYCLE_SERVER_ADDR: '127.0.0.1:9', SPINCYCLE_MYSQL_DSN: '' },
    });
    expect(cfg['server.addr']).toBe('127.0.0.1:9');
    expect(cfg['mysql.dsn']).toBe('root:pw@tcp(db:3306)/sc');
    expect(jrUrls(cfg)).toEqual(['http://a:1', 'http://b:2']);
    expect(cfg['jr_client.timeout']).toBe(2000);
    expect(cfg['auth.admin_roles']).toEqual(['ops']);
    expect(cfg['auth.strict']).toBe(true);
    expect(JSON.stringify(redactRmConfig(cfg))).not.toContain(':pw@');
  });

  it('when a key is unknown or a value bad, then start-up stops naming the key', () => {
    expect(() => loadRmConfig({ file: file('server:\n  adr: x\n'), env: {} })).toThrow(/server\.adr/);
    expect(() => loadRmConfig({ env: { SPINCYCLE_JR_CLIENT_TIMEOUT: 'soon' } })).toThrow(
      /jr_client\.timeout/,
    );
    expect(() => loadRmConfig({ env: { SPINCYCLE_MYSQL_DSN: 'garbage' } })).toThrow(/mysql\.dsn/);
    expect(() => loadRmConfig({ env: { SPINCYCLE_JR_CLIENT_URL: 'ftp://x' } })).toThrow(/jr_client\.url/);
    expect(() => loadRmConfig({ env: { SPINCYCLE_JR_CLIENT_URL: ' , ' } })).toThrow(ConfigError);
    expect(() => loadRmConfig({ file: '/nonexistent/rm.yaml', env: {} })).toThrow(/nonexistent/);
    expect(() => loadRmConfig({ env: { SPINCYCLE_JR_CLIENT_TLS_KEY_FILE: '/k.pem' } })).toThrow(
      "'jr_client.tls.cert_file' must be set together with 'jr_client.tls.key_file'",
    );
  });
});

describe('parseMysqlDsn', () => {
  it('reads mysql:// URLs', () => {
    expect(parseMysqlDsn('mysql://u:p%40ss@db.example:3307/spin?charset=utf8mb4')).toEqual({
      host: 'db.example',
      port: 3307,
      username: 'u',
      password: 'p@ss',
      database: 'spin',
      params: { charset: 'utf8mb4' },
    });
    expect(parseMysqlDsn('mysql://root@127.0.0.1/x')).toMatchObject({
      username: 'root',
      password: '',
      port: 3306,
    });
  });

  it("reads the original's Go DSNs", () => {
    expect(parseMysqlDsn('root:@tcp(localhost:3306)/spincycle_development')).toEqual({
      host: 'localhost',
      port: 3306,
      username: 'root',
      password: '',
      database: 'spincycle_development',
      params: {},
    });
    expect(parseMysqlDsn('spin:se:cret@tcp(10.0.0.5)/sc?parseTime=true')).toMatchObject({
      host: '10.0.0.5',
      port: 3306,
      username: 'spin',
      password: 'se:cret',
      params: { parseTime: 'true' },
    });
    expect(parseMysqlDsn('u:p@unix(/var/run/mysqld.sock)/sc')).toMatchObject({
      socketPath: '/var/run/mysqld.sock',
      database: 'sc',
    });
    // A unix DSN names its socket: no installation-specific default is guessed.
    expect(() => parseMysqlDsn('u:p@unix/sc')).toThrow(/must name its socket/);
  });

  it('rejects DSNs without a database', () => {
    expect(() => parseMysqlDsn('mysql://u@h:1/')).toThrow(/database/);
    expect(() => parseMysqlDsn('u:p@tcp(h:1)/')).toThrow(/database/);
  });

  it('builds MySQL options with UTC times and a pool, or SQLite options', () => {
    expect(dataSourceOptions({ mysqlDsn: 'u:p@tcp(h:1)/db', poolSize: 7 })).toMatchObject({
      type: 'mysql',
      host: 'h',
      port: 1,
      database: 'db',
      timezone: 'Z',
      poolSize: 7,
      synchronize: false,
    });
    expect(dataSourceOptions({ sqlitePath: ':memory:' })).toMatchObject({
      type: 'better-sqlite3',
      database: ':memory:',
      synchronize: false,
    });
  });
});
