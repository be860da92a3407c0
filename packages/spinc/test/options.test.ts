import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  configFileList,
  DEFAULT_ADDR,
  DEFAULT_TIMEOUT_MS,
  expandHome,
  loadConfigFiles,
  normalizeAddr,
  parseBool,
  parseCommandLine,
  parseConfigText,
  parseTimeoutMs,
  quoteValue,
  resolveOptions,
} from '../src/options.js';

const file = (name: string, values: object) => ({ file: name, values });

describe('parseCommandLine', () => {
  it('takes flags before and after the command, in both --flag=value and --flag value forms', () => {
    const { flags, positionals } = parseCommandLine([
      '--addr=http://rm:1',
      'start',
      'req',
      'a=1',
      '--wait',
      '--timeout',
      '20',
      '-y',
    ]);
    expect(flags).toMatchObject({ addr: 'http://rm:1', wait: true, timeout: '20', yes: true });
    expect(positionals).toEqual(['start', 'req', 'a=1']);
  });
  it('stops at --', () => {
    expect(parseCommandLine(['find', '--', '--json']).positionals).toEqual(['find', '--json']);
  });
  it('rejects unknown flags and missing values as usage errors', () => {
    expect(() => parseCommandLine(['--bogus'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--bogus'])).toThrow(
      /Error parsing command line: Unknown option '--bogus'/,
    );
    expect(() => parseCommandLine(['status', '--addr'])).toThrow(UsageError);
  });
});

describe('small parsers', () => {
  it('parseBool', () => {
    for (const t of ['1', 'true', 'TRUE', 't', 'yes', 'on']) expect(parseBool(t)).toBe(true);
    for (const f of ['0', 'false', 'F', 'no', 'off']) expect(parseBool(f)).toBe(false);
    expect(parseBool('maybe')).toBeUndefined();
  });
  it('parseTimeoutMs', () => {
    expect(parseTimeoutMs('250')).toBe(250);
    expect(parseTimeoutMs(1000)).toBe(1000);
    for (const bad of ['0', '-1', '1.5', 'abc', '', '5s']) expect(parseTimeoutMs(bad)).toBeUndefined();
  });
  it('normalizeAddr adds http:// and drops trailing slashes', () => {
    expect(normalizeAddr('rm.example:32308')).toBe('http://rm.example:32308');
    expect(normalizeAddr('https://rm.example/')).toBe('https://rm.example');
    expect(normalizeAddr('ftp://x')).toBeUndefined();
    expect(normalizeAddr('')).toBeUndefined();
  });
  it('expandHome', () => {
    expect(expandHome('~/.spinc.yaml', '/home/u')).toBe('/home/u/.spinc.yaml');
    expect(expandHome('/etc/x', '/home/u')).toBe('/etc/x');
  });
  it('quoteValue quotes spaces, tabs and double quotes', () => {
    expect(quoteValue('plain')).toBe('plain');
    expect(quoteValue('a b')).toBe('"a b"');
    expect(quoteValue('a\tb')).toBe('"a\tb"');
    expect(quoteValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteValue('')).toBe('""');
  });
});

describe('config files', () => {
  it('lists the system file then the user file by default', () => {
    expect(configFileList({}, {}, '/home/u')).toEqual({
      files: ['/etc/spinc/spinc.yaml', '/home/u/.spinc.yaml'],
      explicit: false,
    });
  });
  it('SPINC_CONFIG and --config replace the defaults (comma-separated, ~ expanded), --config wins', () => {
    expect(configFileList({}, { SPINC_CONFIG: 'a.yaml, ~/b.yaml' }, '/h').files).toEqual([
      'a.yaml',
      '/h/b.yaml',
    ]);
    expect(configFileList({ config: 'c.yaml' }, { SPINC_CONFIG: 'a.yaml' }, '/h')).toEqual({
      files: ['c.yaml'],
      explicit: true,
    });
  });
  it('parses keys, warns about bad values and unknown keys', () => {
    const { values, warnings } = parseConfigText(
      'addr: rm:1\ntimeout: 250\ndebug: yes\nenv: prod\ntoken: s3cret\n',
      'f',
    );
    expect(values).toEqual({
      addr: 'http://rm:1',
      timeoutMs: 250,
      debug: true,
      env: 'prod',
      token: 's3cret',
    });
    expect(warnings).toEqual([]);
    const bad = parseConfigText('timeout: soon\ncolour: red\n', 'f');
    expect(bad.values).toEqual({});
    expect(bad.warnings.join('\n')).toMatch(/ignoring timeout "soon"/);
    expect(bad.warnings.join('\n')).toMatch(/unknown key 'colour'/);
    expect(parseConfigText(': : :\n  - [', 'f').warnings[0]).toMatch(/invalid YAML/);
    expect(parseConfigText('', 'f')).toEqual({ values: {}, warnings: [] });
  });
  it('skips missing default files quietly but warns about a missing named file', () => {
    const enoent = () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    };
    expect(loadConfigFiles(['/etc/spinc/spinc.yaml'], false, enoent).warnings).toEqual([]);
    expect(loadConfigFiles(['mine.yaml'], true, enoent).warnings).toEqual([
      'ignoring config file mine.yaml: file not found',
    ]);
  });
  it('reads files in order', () => {
    const files: Record<string, string> = { a: 'addr: http://a:1\ntimeout: 100', b: 'addr: http://b:2' };
    const r = loadConfigFiles(['a', 'b'], true, (p) => files[p] as string);
    expect(r.configs.map((c) => c.values)).toEqual([
      { addr: 'http://a:1', timeoutMs: 100 },
      { addr: 'http://b:2' },
    ]);
  });
});

describe('resolveOptions precedence: files < env < flags', () => {
  it('defaults', () => {
    const o = resolveOptions({}, {}, []);
    expect(o).toMatchObject({
      addr: DEFAULT_ADDR,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      debug: false,
      env: '',
      json: false,
      token: undefined,
      repeatable: '',
    });
  });
  it('later files override earlier ones', () => {
    const o = resolveOptions({}, {}, [
      file('sys', { addr: 'http://sys:1', timeoutMs: 100, token: 't1' }),
      file('user', { addr: 'http://user:2' }),
    ]);
    expect(o.addr).toBe('http://user:2');
    expect(o.timeoutMs).toBe(100);
    expect(o.token).toBe('t1');
    expect(o.sources.addr).toBe('user');
  });
  it('env overrides files, flags override env', () => {
    const configs = [
      file('f', { addr: 'http://file:1', timeoutMs: 100, debug: false, env: 'fileenv', token: 'ft' }),
    ];
    const env = {
      SPINC_ADDR: 'http://env:2',
      SPINC_TIMEOUT: '200',
      SPINC_DEBUG: 'true',
      SPINC_ENV: 'envenv',
      SPINC_TOKEN: 'et',
    };
    const fromEnv = resolveOptions({}, env, configs);
    expect(fromEnv).toMatchObject({
      addr: 'http://env:2',
      timeoutMs: 200,
      debug: true,
      env: 'envenv',
      token: 'et',
    });
    const fromFlags = resolveOptions(
      { addr: 'http://flag:3', timeout: '300', debug: false, env: 'flagenv' },
      env,
      configs,
    );
    expect(fromFlags).toMatchObject({
      addr: 'http://flag:3',
      timeoutMs: 300,
      debug: false,
      env: 'flagenv',
      token: 'et',
    });
    expect(fromFlags.sources).toMatchObject({ addr: '--addr', timeout: '--timeout', token: 'SPINC_TOKEN' });
  });
  it('empty env vars count as unset', () => {
    expect(resolveOptions({}, { SPINC_ADDR: '', SPINC_TIMEOUT: '' }, []).addr).toBe(DEFAULT_ADDR);
  });
  it('bad env and flag values are usage errors', () => {
    expect(() => resolveOptions({}, { SPINC_TIMEOUT: 'abc' }, [])).toThrow(/invalid SPINC_TIMEOUT 'abc'/);
    expect(() => resolveOptions({}, { SPINC_DEBUG: 'maybe' }, [])).toThrow(UsageError);
    expect(() => resolveOptions({ timeout: '-5' }, {}, [])).toThrow(/invalid --timeout '-5'/);
    expect(() => resolveOptions({ addr: 'ftp://x' }, {}, [])).toThrow(UsageError);
  });
  it('repeats only --env, --addr and --config given as flags in printed commands', () => {
    expect(
      resolveOptions(
        { addr: 'http://rm:1', env: 'prod', config: 'a b.yaml', timeout: '5' },
        { SPINC_ADDR: 'http://x:1' },
        [],
      ).repeatable,
    ).toBe('--env prod --addr http://rm:1 --config "a b.yaml" ');
  });
});
