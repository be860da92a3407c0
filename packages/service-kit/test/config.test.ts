import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type ConfigSchema,
  configFileFor,
  implicitConfigFile,
  loadConfig,
  redactConfig,
} from '../src/config.js';

const schema = {
  'server.addr': { type: 'string', default: '127.0.0.1:32308', env: 'SPINCYCLE_SERVER_ADDR' },
  'jobs.limit': { type: 'int', default: 0, env: 'SPINCYCLE_JOBS_LIMIT' },
  'lease.ttl': { type: 'duration', default: '30s' },
  'auth.admin_roles': { type: 'string[]', default: [] as string[] },
  'db.dsn': { type: 'string', env: 'SPINCYCLE_DB_DSN' },
} as const satisfies ConfigSchema;

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.yaml');
  writeFileSync(p, text);
  return p;
}

describe('loadConfig', () => {
  it('layers defaults < file < environment', () => {
    const cfg = loadConfig(schema, {
      file: file('server:\n  addr: 0.0.0.0:1\njobs:\n  limit: 4\nlease:\n  ttl: 1m\n'),
      env: { SPINCYCLE_SERVER_ADDR: '127.0.0.1:9', SPINCYCLE_JOBS_LIMIT: '' },
    });
    expect(cfg['server.addr']).toBe('127.0.0.1:9');
    expect(cfg['jobs.limit']).toBe(4);
    expect(cfg['lease.ttl']).toBe(60_000);
    expect(cfg['auth.admin_roles']).toEqual([]);
    expect(cfg['db.dsn']).toBeUndefined();
  });
  it('stops on unknown keys and bad values, naming the key', () => {
    expect(() => loadConfig(schema, { file: file('server:\n  adr: x\n'), env: {} })).toThrow(
      /unknown key 'server.adr'/,
    );
    expect(() => loadConfig(schema, { file: file('jobs:\n  limit: lots\n'), env: {} })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { env: { SPINCYCLE_JOBS_LIMIT: '-1' } })).toThrow(
      /'jobs.limit' must be a non-negative integer/,
    );
    expect(() => loadConfig(schema, { file: file('lease:\n  ttl: soon\n'), env: {} })).toThrow(
      /'lease.ttl' must be a duration/,
    );
  });
  it('requires an explicitly named file to exist', () => {
    expect(() => loadConfig(schema, { file: '/nonexistent/x.yaml', env: {} })).toThrow(/nonexistent/);
  });
  it('redacts passwords in DSNs', () => {
    expect(redactConfig(schema, { 'db.dsn': 'mysql://root:hunter2@h:3306/db' })['db.dsn']).toBe(
      'mysql://root:*****@h:3306/db',
    );
  });
});

describe('the config file', () => {
  it('is config/<ENV>.yaml unless one is named, ENV from ENVIRONMENT', () => {
    expect(implicitConfigFile({})).toBe(join('config', 'development.yaml'));
    expect(implicitConfigFile({ ENVIRONMENT: 'production' })).toBe(join('config', 'production.yaml'));
    expect(implicitConfigFile({ ENVIRONMENT: 'staging' })).toBe(join('config', 'staging.yaml'));
    expect(implicitConfigFile({ ENVIRONMENT: 'qa' })).toBe(join('config', 'development.yaml'));
    expect(configFileFor(undefined, { ENVIRONMENT: 'production' })).toEqual({
      optionalFile: join('config', 'production.yaml'),
    });
    expect(configFileFor('x.yaml', {})).toEqual({ file: 'x.yaml' });
  });
});

describe('objects keys', () => {
  const listSchema = {
    schedules: { type: 'objects', default: [], env: 'SPINCYCLE_SCHEDULES' },
  } as const satisfies ConfigSchema;

  it('takes a list of maps from the file or JSON text from the environment', () => {
    const f = file('schedules:\n  - name: a\n    cron: "* * * * *"\n');
    expect(loadConfig(listSchema, { file: f, env: {} }).schedules).toEqual([
      { name: 'a', cron: '* * * * *' },
    ]);
    const env = { SPINCYCLE_SCHEDULES: '[{"name":"b"}]' };
    expect(loadConfig(listSchema, { file: f, env }).schedules).toEqual([{ name: 'b' }]);
    expect(loadConfig(listSchema, { env: {} }).schedules).toEqual([]);
  });

  it('refuses anything but a list of maps, naming the key', () => {
    expect(() => loadConfig(listSchema, { file: file('schedules: [1, 2]\n'), env: {} })).toThrow(
      /'schedules' must be a list of maps/,
    );
    expect(() => loadConfig(listSchema, { env: { SPINCYCLE_SCHEDULES: '[{' } })).toThrow(ConfigError);
  });
});
