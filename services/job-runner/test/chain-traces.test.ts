import { currentTrace, runWithTrace } from '@spincycle/protocol';
import { describe, expect, it } from 'vitest';
import { forgetChainTrace, inChainTrace, reportChains, traceChain } from '../src/chain-traces.js';

const A = { traceId: 'a'.repeat(32), spanId: '1'.repeat(16), flags: '01' };
const B = { traceId: 'b'.repeat(32), spanId: '2'.repeat(16), flags: '01' };

describe('chain traces', () => {
  it("a call for one chain runs under that chain's trace; for several chains, under none", () => {
    runWithTrace(A, () => traceChain('req-a'));
    runWithTrace(B, () => traceChain('req-b'));
    // Whatever trace the caller is in (a flush scheduled by another chain) does not leak.
    runWithTrace(B, () => {
      expect(inChainTrace(['req-a', 'req-a'], currentTrace)).toEqual(A);
      expect(inChainTrace(['req-a', 'req-b'], currentTrace)).toBeUndefined();
      expect(inChainTrace([], currentTrace)).toBeUndefined();
    });
    forgetChainTrace('req-a');
    expect(inChainTrace(['req-a'], currentTrace)).toBeUndefined();
    forgetChainTrace('req-b');
  });

  it('a report is for the chains of its entries, progress and finishes', () => {
    const batch = {
      logs: [{ requestId: 'x' }],
      progress: [{ requestId: 'y' }],
      finishes: [{ requestId: 'x' }],
    };
    expect([...reportChains(batch)]).toEqual(['x', 'y', 'x']);
  });
});
