import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import {
  bodyLimitFrom,
  pairedTlsFilesFrom,
  serverAddrKey,
  serverLimitKeys,
  serverLimitsFrom,
  serverTlsKeys,
  tlsFileKeys,
  tlsFilesFrom,
} from '../src/server-config.js';

const schema = {
  ...serverAddrKey('127.0.0.1:1'),
  ...serverTlsKeys(),
  ...tlsFileKeys('rm_client.tls'),
} as const;

describe('shared server / TLS config keys', () => {
  it('declares the keys with their SPINCYCLE_* variables, in order', () => {
    expect(Object.keys(schema)).toEqual([
      'server.addr',
      'server.tls.cert_file',
      'server.tls.key_file',
      'server.tls.ca_file',
      'rm_client.tls.cert_file',
      'rm_client.tls.key_file',
      'rm_client.tls.ca_file',
    ]);
    expect(schema['server.addr']).toEqual({
      type: 'string',
      default: '127.0.0.1:1',
      env: 'SPINCYCLE_SERVER_ADDR',
      desc: 'host:port to listen on',
    });
    expect(schema['server.tls.ca_file']).toEqual({
      type: 'string',
      env: 'SPINCYCLE_SERVER_TLS_CA_FILE',
      desc: 'when set, client certificates are required',
    });
    expect(schema['rm_client.tls.cert_file']).toEqual({
      type: 'string',
      env: 'SPINCYCLE_RM_CLIENT_TLS_CERT_FILE',
    });
  });
  it('reads the files from the environment; empty strings are unset', () => {
    const cfg = loadConfig(schema, {
      env: { SPINCYCLE_SERVER_TLS_CERT_FILE: '/c.pem', SPINCYCLE_SERVER_TLS_KEY_FILE: '/k.pem' },
      overrides: { 'rm_client.tls.ca_file': '' },
    });
    expect(cfg['server.addr']).toBe('127.0.0.1:1');
    expect(tlsFilesFrom(cfg, 'server.tls')).toEqual({
      certFile: '/c.pem',
      keyFile: '/k.pem',
      caFile: undefined,
    });
    expect(tlsFilesFrom(cfg, 'rm_client.tls')).toEqual({
      certFile: undefined,
      keyFile: undefined,
      caFile: undefined,
    });
  });
});

describe('pairedTlsFilesFrom', () => {
  it('needs the certificate and the key together, naming the missing one', () => {
    expect(() => pairedTlsFilesFrom({ 'server.tls.cert_file': '/c.pem' }, 'server.tls')).toThrow(
      "config: 'server.tls.key_file' must be set together with 'server.tls.cert_file'",
    );
    expect(() => pairedTlsFilesFrom({ 'x.tls.key_file': '/k.pem', 'x.tls.cert_file': '' }, 'x.tls')).toThrow(
      "config: 'x.tls.cert_file' must be set together with 'x.tls.key_file'",
    );
    expect(pairedTlsFilesFrom({ 'x.tls.ca_file': '/ca.pem' }, 'x.tls')).toEqual({
      certFile: undefined,
      keyFile: undefined,
      caFile: '/ca.pem',
    });
  });
});

describe('shared server limit keys', () => {
  const limits = serverLimitKeys('64mb', 'largest body');
  it('default to 15 s for headers, 60 s for a whole request, 1024 connections', () => {
    const cfg = loadConfig(limits, { env: {} });
    expect(serverLimitsFrom(cfg)).toEqual({
      headersTimeoutMs: 15_000,
      requestTimeoutMs: 60_000,
      maxConnections: 1024,
    });
    expect(bodyLimitFrom('server.body_limit', cfg['server.body_limit'])).toBe(64 * 1024 * 1024);
  });
  it('are read from SPINCYCLE_SERVER_* and checked, naming the key', () => {
    const cfg = loadConfig(limits, {
      env: {
        SPINCYCLE_SERVER_HEADERS_TIMEOUT: '5s',
        SPINCYCLE_SERVER_REQUEST_TIMEOUT: '2s',
        SPINCYCLE_SERVER_MAX_CONNECTIONS: '0',
      },
    });
    expect(() => serverLimitsFrom(cfg)).toThrow(
      new ConfigError("config: 'server.headers_timeout' must not be longer than 'server.request_timeout'"),
    );
    expect(serverLimitsFrom({ ...cfg, 'server.request_timeout': 0 })).toEqual({
      headersTimeoutMs: 5000,
      requestTimeoutMs: 0,
      maxConnections: 0,
    });
    expect(() => bodyLimitFrom('server.body_limit', 'lots')).toThrow(
      'config: \'server.body_limit\' invalid body limit "lots": use bytes or e.g. 1mb, 64mb',
    );
  });
});
