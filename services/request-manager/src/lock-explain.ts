/**
 * The locks' part of "why is it not done?": a PENDING request that waits for
 * a lock gets a `lockHeld` reason naming the requests that hold it.
 */
import { State } from '@spincycle/protocol';
import type { ExplainContributor } from './explain.js';
import type { Locks } from './locks.js';

export function lockExplainContributor(locks: Pick<Locks, 'lockHolderOf'>): ExplainContributor {
  return {
    name: 'locks',
    async contribute({ request }) {
      if (request.state !== State.PENDING) return {};
      const held = await locks.lockHolderOf(request.id);
      if (held.length === 0) return {};
      const holders = [...new Set(held.map((h) => h.requestId))];
      const by = held.map((h) => `${h.name}=${h.value} is held by request ${h.requestId}`).join('; ');
      return {
        request: [
          {
            kind: 'lockHeld',
            message: `it waits for a lock (${by}); it starts when the holder reaches a final state`,
            holders,
            locks: held,
          },
        ],
      };
    },
  };
}
