/**
 * Internal token files are read by one reader on both sides: one token per
 * line, each at least 16 characters. A token per direction: what the RM
 * sends to JRs is not accepted from a JR on the RM's internal endpoints.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess, startJr, startRm } from '../support/system.js';
import { http, messageOf, SPECS, writeAuthFiles } from './support/auth.js';

const files = writeAuthFiles();
const file = (name: string, text: string) => {
  const f = join(files.dir, name);
  writeFileSync(f, text);
  return f;
};

describe('token files', () => {
  it('the JR refuses a short token or one with spaces, as the RM does', async () => {
    for (const [text, why] of [
      ['short-token\n', 'must hold tokens of at least 16 characters'],
      ['a token with spaces inside\n', 'must hold one token per line'],
    ] as const) {
      const f = file('jr-bad-token', text);
      const jr = await startJr({
        rmUrl: `http://127.0.0.1:${await freePort()}`,
        waitHealthy: false,
        env: { SPINCYCLE_RM_CLIENT_INTERNAL_TOKEN_FILE: f },
      });
      expect(await jr.exited).toBe(2);
      expect(jr.log).toContain(`config: 'rm_client.internal_token_file': ${f} ${why}`);
      const rm = await startRm({
        db: 'sqlite',
        specsDir: SPECS,
        jrUrl: `http://127.0.0.1:${await freePort()}`,
        waitHealthy: false,
        env: { SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: f },
      });
      expect(await rm.exited).toBe(2);
      expect(rm.log).toContain(`config: 'auth.internal_token_file': ${f} ${why}`);
    }
  });
});

describe('a token per direction', () => {
  let rm: ServiceProcess;
  const jrToRm = 'jr-to-rm-token-0123456789';
  const rmToJr = 'rm-to-jr-token-0123456789';
  beforeAll(async () => {
    rm = await startRm({
      db: 'sqlite',
      specsDir: SPECS,
      jrUrl: `http://127.0.0.1:${await freePort()}`,
      env: {
        SPINCYCLE_AUTH_TOKENS_FILE: files.tokens,
        SPINCYCLE_AUTH_INTERNAL_TOKEN_FILE: file('jr-to-rm', `${jrToRm}\n`),
        SPINCYCLE_JR_CLIENT_INTERNAL_TOKEN_FILE: file('rm-to-jr', `${rmToJr}\n`),
      },
    });
  });
  afterAll(async () => {
    await rm?.stop();
  });

  it('the RM accepts only the JR → RM token on its internal endpoints', async () => {
    const beat = (token: string) =>
      http(rm.url, 'PUT', '/api/v1/job-runners/heartbeat', {}, { 'X-Spincycle-Internal-Token': token });
    const wrong = await beat(rmToJr);
    expect([wrong.status, messageOf(wrong)]).toEqual([401, 'invalid internal token']);
    expect((await beat(jrToRm)).status).not.toBe(401);
  });
});
