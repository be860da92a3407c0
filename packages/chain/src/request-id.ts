/**
 * Request ids: xid-compatible, like the original's. 12 bytes — 4-byte big-endian
 * Unix seconds, 3-byte machine id, 2-byte process id, 3-byte counter — encoded
 * as 20 characters of lower-case base32hex (`0-9a-v`). The alphabet is in
 * ASCII order, so ids sort by creation second, then by counter within a process.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';
const ID_RE = /^[0-9a-v]{20}$/;

const machineId: Buffer = createHash('md5').update(hostname()).digest().subarray(0, 3);
const pid = process.pid & 0xffff;
// Random start, like xid, so two processes with the same pid do not start in step.
let counter = randomBytes(3).readUIntBE(0, 3);

/** A new, unique, roughly time-ordered 20-character request id. */
export function newRequestId(now: Date = new Date()): string {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(Math.floor(now.getTime() / 1000) >>> 0, 0);
  machineId.copy(b, 4);
  b.writeUInt16BE(pid, 7);
  counter = (counter + 1) & 0xffffff;
  b.writeUIntBE(counter, 9, 3);
  return encode(b);
}

/** Whether `text` has the shape of a request id. */
export function isRequestId(text: string): boolean {
  return ID_RE.test(text);
}

/** The creation time (whole seconds) encoded in a request id. */
export function requestIdTime(id: string): Date {
  if (!isRequestId(id)) throw new Error(`not a request id: ${id}`);
  return new Date(decode(id).readUInt32BE(0) * 1000);
}

/** base32hex of 12 bytes without padding = 20 characters (the last carries 1 bit of data). */
function encode(b: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function decode(id: string): Buffer {
  const b = Buffer.alloc(12);
  let bits = 0;
  let value = 0;
  let i = 0;
  for (const ch of id) {
    value = (value << 5) | ALPHABET.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (i < 12) b[i++] = (value >>> bits) & 0xff;
    }
    value &= (1 << bits) - 1;
  }
  return b;
}
