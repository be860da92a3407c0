/** Final-state listeners: each runs once per final state, and is skipped for request types it has nothing to do for. */
import { describe, expect, it } from 'vitest';
import { FinalStates } from '../src/final-states.js';

describe('FinalStates', () => {
  it('runs a listener for types it applies to, or when the type is unknown; skips the others', async () => {
    const finals = new FinalStates();
    const seen: string[] = [];
    finals.on(
      (id) => {
        seen.push(id);
      },
      (type) => type === 'locked',
    );
    finals.emit('a', 3, 'locked');
    finals.emit('b', 3, 'plain');
    finals.emit('c', 4);
    await finals.settle();
    expect(seen).toEqual(['a', 'c']);
  });
});
