/**
 * The answers a JR reads from the RM. Tolerant by design: an answer from an
 * RM of another version must never stop a JR from reporting, so a missing or
 * malformed part reads as "nothing said" rather than as an error.
 */
import { isPlainObject } from './validate.js';
import type { FinishOutcome, JobRunnerHeartbeatReply, ReportResult } from './wire.js';

/** The settled outcomes (`other_jr` is not: that finish is sent again). */
const OUTCOMES: ReadonlySet<unknown> = new Set<FinishOutcome>(['ok', 'not_running', 'not_found', 'invalid']);

/** The RM's answer to a report batch: unknown and unsettled finish outcomes are left out (the finish is sent again). */
export function parseReportResult(data: unknown): ReportResult {
  const d = isPlainObject(data) ? data : {};
  const finishes: Record<string, FinishOutcome> = {};
  if (isPlainObject(d.finishes))
    for (const [id, v] of Object.entries(d.finishes)) if (OUTCOMES.has(v)) finishes[id] = v as FinishOutcome;
  return {
    inserted: Number(d.inserted) || 0,
    refused: Array.isArray(d.refused) ? d.refused.filter((x): x is string => typeof x === 'string') : [],
    finishes,
  };
}

/** The RM's answer to a heartbeat: request ids that are not strings are left out; no lease reads as 0 (none announced). */
export function parseHeartbeatReply(data: unknown): JobRunnerHeartbeatReply {
  const d = isPlainObject(data) ? data : {};
  return {
    drop: Array.isArray(d.drop) ? d.drop.filter((x): x is string => typeof x === 'string') : [],
    leaseMs: Number(d.leaseMs) || 0,
  };
}
