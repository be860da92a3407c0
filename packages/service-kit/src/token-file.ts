/**
 * The tokens of a token file (the internal token the RM and JRs share): one
 * per line, blank lines and `#` comments skipped. Several tokens make a
 * rotation seamless: every listed token is accepted, the first one is sent.
 */
export function tokenLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
