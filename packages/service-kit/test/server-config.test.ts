import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { serverAddrKey, serverTlsKeys, tlsFileKeys, tlsFilesFrom } from '../src/server-config.js';

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
