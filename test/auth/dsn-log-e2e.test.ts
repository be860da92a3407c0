/**
 * The MySQL password never reaches the RM's log, whatever form the DSN takes:
 * the config dump at start shows it as `*****`. The RM runs `migrate` against
 * a port where nothing listens, so it logs its config and fails to connect.
 */
import { spawn } from 'node:child_process';
import { redactConfig } from '@spincycle/service-kit';
import { describe, expect, it } from 'vitest';
import { RM_CONFIG_SCHEMA } from '../../services/request-manager/src/config.js';
import { freePort, REPO_ROOT, RM_MAIN } from '../support/system.js';

const PASSWORD = 'Pw-s3cret@x9';

function migrateLog(dsn: string): Promise<{ code: number | null; log: string }> {
  const proc = spawn(process.execPath, [RM_MAIN, 'migrate'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SPINCYCLE_MYSQL_DSN: dsn, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (c) => (log += c));
  proc.stderr.on('data', (c) => (log += c));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, log })));
}

describe('mysql.dsn in the log', () => {
  it('every DSN form: the config dump shows ***** and the password appears nowhere', async () => {
    const port = await freePort();
    const forms = [
      `mysql://spin:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/sc`,
      `mysql://spin:${PASSWORD}@127.0.0.1:${port}/sc`,
      `spin:${PASSWORD}@tcp(127.0.0.1:${port})/sc?parseTime=true`,
      `spin:${PASSWORD}@/sc`,
    ];
    for (const dsn of forms) {
      const { code, log } = await migrateLog(dsn);
      expect([dsn, code]).toEqual([dsn, 1]);
      const config = log.split('\n').find((l) => l.includes('"message":"config"'));
      expect(JSON.parse(config as string).config['mysql.dsn']).toMatch(/^(mysql:\/\/)?spin:\*\*\*\*\*@/);
      expect(log).not.toContain(PASSWORD);
      expect(log).not.toContain(encodeURIComponent(PASSWORD));
    }
  });

  it('the config dump keeps what is not secret and hides a DSN of a form it does not know', () => {
    const redact = (dsn: string) => redactConfig(RM_CONFIG_SCHEMA, { 'mysql.dsn': dsn })['mysql.dsn'];
    expect(redact('spin:pw@unix(/run/mysqld.sock)/sc')).toBe('spin:*****@unix(/run/mysqld.sock)/sc');
    expect(redact('spin@tcp(db:3306)/sc')).toBe('spin@tcp(db:3306)/sc');
    expect(redact('mysql://spin@db/sc')).toBe('mysql://spin@db/sc');
    expect(redact('odd:pw@something')).toBe('*****');
  });
});
