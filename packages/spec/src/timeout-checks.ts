/**
 * Checks of the timeout and backoff keys: a node's `timeout`, `retryBackoff` and
 * `retryWaitMax`, and a sequence's (request's) `timeout`.
 *
 * - `timeout`: not a duration, or not greater than zero;
 * - `timeout-place`: a sequence `timeout` on a sequence that is not a request, or a node
 *   `timeout` on a node without a valid category;
 * - `retry-backoff`: `retryBackoff` not `constant` or `exponential`, or set without `retry`;
 * - `retry-wait-max`: `retryWaitMax` not a duration, negative, without
 *   `retryBackoff: exponential`, or smaller than `retryWait`.
 */
import { diag, invalidValueMsg, missingValueMsg } from './diagnostics.js';
import { durationMs } from './duration.js';
import type { Diagnostic, NodeSpec, SequenceSpec } from './model.js';
import { fieldLine, rawCategory } from './spec-views.js';

const RETRY_BACKOFFS: readonly string[] = ['constant', 'exponential'];
const CATEGORIES: readonly string[] = ['job', 'sequence', 'conditional'];

/** Why `value` is not a usable timeout, or undefined when it is one. */
function timeoutProblem(value: string): string | undefined {
  const ms = durationMs(value);
  if (Number.isNaN(ms)) return 'a duration such as 500ms, 30s or 5m';
  if (ms <= 0) return 'a duration greater than 0';
  return undefined;
}

export function checkSequenceTimeout(seq: SequenceSpec): Diagnostic[] {
  if (seq.timeout === undefined) return [];
  const at = { file: seq.file, line: seq.timeoutLine ?? seq.pos.line, sequence: seq.name };
  const problem = timeoutProblem(seq.timeout);
  if (problem !== undefined)
    return [diag('error', 'timeout', at, invalidValueMsg(undefined, 'timeout', [seq.timeout], problem))];
  if (!seq.request) {
    const why =
      'no value; only a request sequence (request: true) has a timeout — set it on the calling node';
    return [diag('error', 'timeout-place', at, invalidValueMsg(undefined, 'timeout', [seq.timeout], why))];
  }
  return [];
}

export function checkNodeTimeouts(seq: SequenceSpec, node: NodeSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const n = node.name;
  const err = (check: string, key: string, msg: string) =>
    out.push(
      diag('error', check, { file: seq.file, line: fieldLine(node, key), sequence: seq.name, node: n }, msg),
    );

  if (node.timeout !== undefined) {
    const problem = timeoutProblem(node.timeout);
    const category = rawCategory(node);
    if (problem !== undefined)
      err('timeout', 'timeout', invalidValueMsg(n, 'timeout', [node.timeout], problem));
    else if (category === undefined || !CATEGORIES.includes(category))
      err(
        'timeout-place',
        'timeout',
        invalidValueMsg(
          n,
          'timeout',
          [node.timeout],
          'no value; only job, sequence and conditional nodes have one',
        ),
      );
  }

  const backoff = node.retryBackoff;
  if (backoff !== undefined) {
    if (!RETRY_BACKOFFS.includes(backoff))
      err(
        'retry-backoff',
        'retryBackoff',
        invalidValueMsg(n, 'retryBackoff', [backoff], 'constant or exponential'),
      );
    else if (node.retry === 0)
      err(
        'retry-backoff',
        'retryBackoff',
        missingValueMsg(n, 'retry', "required when 'retryBackoff' field set"),
      );
  }

  const max = node.retryWaitMax;
  if (max !== undefined) {
    const ms = durationMs(max);
    const wait = durationMs(node.retryWait);
    if (Number.isNaN(ms) || ms < 0)
      err(
        'retry-wait-max',
        'retryWaitMax',
        invalidValueMsg(n, 'retryWaitMax', [max], 'a duration of 0 or more'),
      );
    else if (backoff !== 'exponential')
      err(
        'retry-wait-max',
        'retryWaitMax',
        missingValueMsg(n, 'retryBackoff', "must be 'exponential' when 'retryWaitMax' field set"),
      );
    else if (!Number.isNaN(wait) && ms < wait)
      err(
        'retry-wait-max',
        'retryWaitMax',
        invalidValueMsg(n, 'retryWaitMax', [max], `at least retryWait (${node.retryWait})`),
      );
  }
  return out;
}
