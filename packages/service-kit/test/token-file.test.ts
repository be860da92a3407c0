import { describe, expect, it } from 'vitest';
import { tokenLines } from '../src/token-file.js';

describe('tokenLines', () => {
  it('one token per line, blank lines and # comments skipped, order kept', () => {
    expect(tokenLines('# rotating\n  first-token \n\nsecond-token\r\n# old one gone\n')).toEqual([
      'first-token',
      'second-token',
    ]);
    expect(tokenLines('\n# nothing\n')).toEqual([]);
  });
});
