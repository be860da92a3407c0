/**
 * Token files of the internal calls between the RM and the JRs, read the same
 * way by both services (RM → JR and JR → RM alike).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';

/** Shortest token accepted: a guessable token would defeat the point of having one. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The tokens of a token file's text: one per line, blank lines and `#`
 * comments skipped. Several tokens make a rotation seamless: every listed
 * token is accepted, the first one is sent.
 */
export function tokenLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Read the token file of config key `key`: at least one token, each at least
 * MIN_TOKEN_LENGTH characters without whitespace. Throws ConfigError naming
 * the key and the file (never a token).
 */
export function readTokenFile(key: string, file: string): string[] {
  const bad = (why: string) => new ConfigError(`config: '${key}': ${file} ${why}`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config: '${key}': cannot read ${file}: ${(err as Error).message}`);
  }
  const tokens = tokenLines(text);
  if (tokens.length === 0)
    throw bad(`is empty: it must hold a token of at least ${MIN_TOKEN_LENGTH} characters`);
  for (const token of tokens) {
    if (/\s/.test(token)) throw bad('must hold one token per line (no whitespace inside)');
    if (token.length < MIN_TOKEN_LENGTH)
      throw bad(`must hold tokens of at least ${MIN_TOKEN_LENGTH} characters`);
  }
  return tokens;
}
