/**
 * The trace each chain runs under: that of the call that started (or
 * resumed) it. The chain's traversal inherits it by itself; calls to the RM
 * do not (reports are batched across chains), so the RM gateway looks the
 * trace up here: a call for one chain carries that chain's trace with a new
 * span, a call for several chains carries none.
 */
import { currentTrace, runWithTrace, type TraceContext } from '@spincycle/protocol';

const traces = new Map<string, TraceContext>();

/** Remember the current trace (the call being handled) for the chain. */
export function traceChain(requestId: string): void {
  const t = currentTrace();
  if (t) traces.set(requestId, t);
}

/** The chain is gone: forget its trace. */
export function forgetChainTrace(requestId: string): void {
  traces.delete(requestId);
}

/** Run `fn` under the trace of the chains it is for: one chain's, or none when they are several or unknown. */
export function inChainTrace<T>(requestIds: Iterable<string>, fn: () => T): T {
  let only: string | undefined;
  for (const id of requestIds) {
    if (only !== undefined && id !== only) return runWithTrace(undefined, fn);
    only = id;
  }
  return runWithTrace(only === undefined ? undefined : traces.get(only), fn);
}

/** The chains a report call is for. */
export function* reportChains(batch: {
  logs: readonly { requestId: string }[];
  progress: readonly { requestId: string }[];
  finishes: readonly { requestId: string }[];
}): Generator<string> {
  for (const list of [batch.logs, batch.progress, batch.finishes]) for (const x of list) yield x.requestId;
}
