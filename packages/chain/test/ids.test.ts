/** Request ids, job ids, bench-wide at small sizes, determinism. */
import { builtinJobFactory } from '@spincycle/jobs';
import { describe, expect, it } from 'vitest';
import { buildJobChain, isRequestId, JobIdGenerator, newRequestId, requestIdTime } from '../src/index.js';
import { fixture, jobList, layers } from './helpers.js';

describe('newRequestId', () => {
  it('is 20 characters of lower-case base32hex', () => {
    for (let i = 0; i < 1000; i++) {
      const id = newRequestId();
      expect(id).toMatch(/^[0-9a-v]{20}$/);
      expect(isRequestId(id)).toBe(true);
    }
    expect(isRequestId('0123456789abcdefghiw')).toBe(false);
    expect(isRequestId('0123456789abcdefghi')).toBe(false);
  });

  it('is unique and sorts in creation order', () => {
    const ids = Array.from({ length: 20_000 }, () => newRequestId());
    expect(new Set(ids).size).toBe(ids.length);
    // The 3-byte counter starts at a random value and may wrap once; split there.
    const sorted = [...ids].sort();
    const wrapped = ids.findIndex((id, i) => i > 0 && id < (ids[i - 1] as string));
    if (wrapped === -1) expect(sorted).toEqual(ids);
    else expect(wrapped).toBeGreaterThan(0);
  });

  it('sorts by time first and encodes the creation second', () => {
    const earlier = newRequestId(new Date('2020-01-01T00:00:00Z'));
    const later = newRequestId(new Date('2020-01-01T00:00:01Z'));
    expect(earlier < later).toBe(true);
    expect(requestIdTime(earlier).toISOString()).toBe('2020-01-01T00:00:00.000Z');
    expect(requestIdTime(later).toISOString()).toBe('2020-01-01T00:00:01.000Z');
    const now = Date.now();
    expect(Math.abs(requestIdTime(newRequestId()).getTime() - now)).toBeLessThan(2000);
  });

  it('uses the xid layout: time, machine and pid bytes are stable within a process', () => {
    const a = newRequestId(new Date(1_700_000_000_000));
    const b = newRequestId(new Date(1_700_000_000_000));
    // 4-byte time + 3-byte machine id + 2-byte pid = 72 bits = the first 14 characters (70 bits) match.
    expect(a.slice(0, 14)).toBe(b.slice(0, 14));
    expect(a).not.toBe(b);
    // 1_700_000_000 = 0x6553f100: base32hex of 0x65 0x53 0xf1 0x00 ... starts with "cl9v2"
    expect(a.slice(0, 5)).toBe('cl9v2');
  });
});

describe('JobIdGenerator', () => {
  it('makes unique 4-character ids from a-z A-Z 0-9', () => {
    const gen = new JobIdGenerator();
    const ids = Array.from({ length: 50_000 }, () => gen.next());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9]{4}$/);
    expect(gen.size).toBe(50_000);
    const symbols = new Set(ids.join(''));
    expect(symbols.size).toBe(62);
  });
});

describe('bench-wide', () => {
  async function wide(n: number) {
    const specs = await fixture('bench-wide');
    const hosts = Array.from({ length: n }, (_, i) => `host-${i}`).join(',');
    return buildJobChain({ specs, type: 'bench-wide', args: { hosts }, factory: builtinJobFactory });
  }

  it('has 7 jobs per host plus 9 (5 + the placeholder or single expansion at 0 and 1 hosts)', async () => {
    expect(jobList((await wide(0)).chain)).toHaveLength(7); // 5 + noop_per-host_begin/end
    expect(jobList((await wide(1)).chain)).toHaveLength(7 + 5);
    for (const n of [2, 3, 10, 100, 500]) expect(jobList((await wide(n)).chain)).toHaveLength(7 * n + 9);
  });

  it('builds 3 hosts with the expected shape and unique ids', async () => {
    const { chain } = await wide(3);
    expect(layers(chain)).toEqual([
      ['request_bench-wide_begin'],
      ['bench-wide_begin'],
      ['split-hosts'],
      ['repeat_per-host_begin'],
      ['repeat_per-host_begin'],
      ['sequence_per-host_begin×3'],
      ['bench-host_begin×3'],
      ['a×3'],
      ['b×3'],
      ['c×3'],
      ['bench-host_end×3'],
      ['sequence_per-host_end×3'],
      ['repeat_per-host_end'],
      ['repeat_per-host_end'],
      ['bench-wide_end'],
      ['request_bench-wide_end'],
    ]);
    const split = jobList(chain).find((j) => j.name === 'split-hosts');
    expect(split?.args).toEqual({ input: 'host-0,host-1,host-2' });
  });

  it('2000 hosts: unique job ids, one chain', async () => {
    const { chain } = await wide(2000);
    const ids = Object.keys(chain.jobs);
    expect(ids).toHaveLength(7 * 2000 + 9);
    for (const [id, job] of Object.entries(chain.jobs)) expect(job.id).toBe(id);
    const edges = Object.values(chain.adjacencyList).reduce((n, l) => n + l.length, 0);
    // Every job has exactly one successor, except the last (none) and the batch begin (2000).
    expect(edges).toBe(ids.length - 2 + 2000);
  });

  it('is deterministic: the same names and edges on every build', async () => {
    const shape = async () => {
      const { chain } = await wide(20);
      // Compare by position in the canonical order, not by the random ids.
      const list = jobList(chain);
      const pos = new Map(list.map((j, i) => [j.id, i]));
      return list.map((j) => [j.name, (chain.adjacencyList[j.id] ?? []).map((t) => pos.get(t))]);
    };
    expect(await shape()).toEqual(await shape());
  });
});
