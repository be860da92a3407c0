/**
 * Checks of a request type's operator keys: `lock` names args of the sequence
 * (`lock-arg`), `lockMode` is `wait` or `fail` (`lock-mode`), `notify` entries
 * are http(s) URLs (`notify-url`); on a sequence that is not a request type
 * these keys do nothing (`request-keys`, a warning).
 */
import { diag, invalidValueMsg } from './diagnostics.js';
import type { Diagnostic, SequenceSpec } from './model.js';
import { sequenceArgNames } from './spec-views.js';

export const LOCK_MODES: readonly string[] = ['wait', 'fail'];

export function checkRequestKeys(seq: SequenceSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const line = (key: string) => seq.lines?.[key] ?? seq.pos.line;
  const at = (key: string) => ({ file: seq.file, line: line(key), sequence: seq.name });
  const lock = seq.lock ?? [];
  const notify = seq.notify ?? [];
  const args = new Set(sequenceArgNames(seq));
  const unknown = lock.filter((name) => !args.has(name));
  if (unknown.length > 0)
    out.push(
      diag(
        'error',
        'lock-arg',
        at('lock'),
        invalidValueMsg(undefined, 'lock', unknown, 'args of this sequence'),
      ),
    );
  if (seq.lockMode !== undefined && !LOCK_MODES.includes(seq.lockMode))
    out.push(
      diag(
        'error',
        'lock-mode',
        at('lockMode'),
        invalidValueMsg(undefined, 'lockMode', [seq.lockMode], 'wait or fail'),
      ),
    );
  const badUrls = notify.filter((u) => !isHttpUrl(u));
  if (badUrls.length > 0)
    out.push(
      diag(
        'error',
        'notify-url',
        at('notify'),
        invalidValueMsg(undefined, 'notify', badUrls, 'http(s):// URLs'),
      ),
    );
  const used = ['lock', 'lockMode', 'notify'].filter((k) => seq.lines?.[k] !== undefined);
  if (!seq.request && used.length > 0)
    out.push(
      diag(
        'warning',
        'request-keys',
        at(used[0] as string),
        `${used.join(', ')} only apply to request types (request: true); ignored here`,
      ),
    );
  return out;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
