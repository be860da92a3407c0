/** --ca/--cert/--key: flags, SPINC_* variables and config keys, with the usual precedence. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { parseCommandLine, parseConfigText, resolveOptions } from '../src/options.js';

const file = (name: string, values: Record<string, unknown>) => ({ file: name, values });

describe('TLS options', () => {
  it('config keys ca, cert, key are read; empty ones are warned about', () => {
    const r = parseConfigText('ca: ~/ca.pem\ncert: /c.pem\nkey: /k.pem\n', 'f');
    expect(r).toEqual({ values: { ca: '~/ca.pem', cert: '/c.pem', key: '/k.pem' }, warnings: [] });
    expect(parseConfigText('ca: ""\n', 'f').warnings).toEqual(['f: ignoring ca: expected a file path']);
  });

  it('files < env < flags; sources are kept; flags are repeated in printed commands', () => {
    const configs = [file('f', { ca: '/f-ca', cert: '/f-cert', key: '/f-key' })];
    expect(resolveOptions({}, {}, configs).tls).toEqual({ ca: '/f-ca', cert: '/f-cert', key: '/f-key' });
    const env = { SPINC_CA: '/e-ca', SPINC_CERT: '/e-cert', SPINC_KEY: '/e-key' };
    expect(resolveOptions({}, env, configs).tls).toEqual({ ca: '/e-ca', cert: '/e-cert', key: '/e-key' });
    const { flags } = parseCommandLine(['--ca', '/x-ca', 'find', '--cert=/x-cert', '--key', '/x-key']);
    const o = resolveOptions(flags, env, configs);
    expect(o.tls).toEqual({ ca: '/x-ca', cert: '/x-cert', key: '/x-key' });
    expect(o.sources).toMatchObject({ ca: '--ca', cert: '--cert', key: '--key' });
    expect(o.repeatable).toBe('--ca /x-ca --cert /x-cert --key /x-key ');
    expect(resolveOptions({}, {}, []).tls).toEqual({});
  });

  it('a certificate without its key (or the reverse) is a usage error', () => {
    expect(() => resolveOptions({ cert: '/c' }, {}, [])).toThrow(UsageError);
    expect(() => resolveOptions({}, { SPINC_KEY: '/k' }, [])).toThrow(
      /needs both cert and key: got only key \(from SPINC_KEY\)/,
    );
    expect(() => resolveOptions({ ca: ' ' }, {}, [])).toThrow(/invalid --ca/);
  });
});

describe('TLS failures are named with the option that fixes them', () => {
  it('client certificate required, untrusted server, name mismatch, not TLS', async () => {
    const { describeTlsFailure } = await import('../src/errors.js');
    expect(
      describeTlsFailure(
        'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        '80:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/x.c:1601:SSL alert number 116',
      ),
    ).toBe('it requires a client certificate (set --cert and --key, or SPINC_CERT and SPINC_KEY)');
    expect(
      describeTlsFailure('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
    ).toBe(
      'cannot verify its certificate: self-signed certificate in certificate chain (set --ca or SPINC_CA to the CA that signed it)',
    );
    expect(
      describeTlsFailure('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
    ).toMatch(/^its certificate does not match the address/);
    expect(describeTlsFailure('ECONNREFUSED', 'connect ECONNREFUSED')).toBeUndefined();
  });
});
