/** Static-token auth for HTTP tests: a tokens file of users and roles, and the JR's internal token. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashToken } from '../../src/auth/tokens.js';

const INTERNAL = 'jr-internal-token-0123456789abcdef';
const tokenOf = (user: string) => `token-of-${user}`;
/** Headers of a call as `user`. */
export const as = (user: string) => ({ Authorization: `Bearer ${tokenOf(user)}` });
/** Headers of a call as a Job Runner (a test adds `X-Spincycle-Job-Runner` once its fake JR listens). */
export const jrCreds: Record<string, string> = { 'X-Spincycle-Internal-Token': INTERNAL };

/** Writes the tokens file (`user → roles`) and the internal token file. */
export function authFiles(users: Record<string, string[]>): { tokens: string; internal: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rm-auth-http-'));
  const tokens = join(dir, 'tokens.yaml');
  writeFileSync(
    tokens,
    Object.entries(users)
      .map(([u, roles]) => `${hashToken(tokenOf(u))}: { user: ${u}, roles: [${roles.join(', ')}] }\n`)
      .join(''),
  );
  const internal = join(dir, 'internal-token');
  writeFileSync(internal, `${INTERNAL}\n`);
  return { tokens, internal };
}
