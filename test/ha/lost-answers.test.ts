/**
 * Fault test 7: the RM applies a JR's report but its answer never arrives
 * (the connection drops after the RM answered). The JR sends the batch again;
 * every job-log entry and every finish is still applied exactly once, and no
 * finish ever travels ahead of its chain's entries. A proxy between the JR
 * and the RM drops the answer of batches that carry a finish for the first
 * time (never of two batches in a row, so the JR gets through).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJson, type ReportBatch, type Request, RmClient, State } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, type ServiceProcess } from '../support/system.js';
import {
  allFinal,
  expectEntriesOnce,
  newLedger,
  readLedger,
  startHaJr,
  startHaRm,
  until,
} from './support.js';

const procs: ServiceProcess[] = [];
let proxy: http.Server | undefined;
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop('SIGKILL');
  proxy?.closeAllConnections();
  proxy?.close();
});

/** Forwards everything to `target`; answers of report batches carrying a finish seen for the first time are dropped. */
async function lossyProxy(
  target: string,
): Promise<{ url: string; batches: ReportBatch[]; droppedFor: Set<string>; paths: Set<string> }> {
  const seen = new Set<string>();
  const state = {
    url: '',
    batches: [] as ReportBatch[],
    droppedFor: new Set<string>(),
    paths: new Set<string>(),
  };
  let lastDropped = false;
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let drop = false;
      state.paths.add(`${req.method} ${req.url}`);
      if (req.method === 'POST' && req.url === '/api/v1/internal/reports') {
        const batch = parseJson(body.toString('utf8')) as ReportBatch;
        state.batches.push(batch);
        const fresh = batch.finishes.filter((f) => !seen.has(f.requestId));
        for (const f of fresh) seen.add(f.requestId);
        drop = fresh.length > 0 && !lastDropped;
        lastDropped = drop;
        if (drop) for (const f of fresh) state.droppedFor.add(f.requestId);
      }
      const up = http.request(
        `${target}${req.url}`,
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            if (drop) {
              // Applied by the RM, but the JR never hears back.
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(parts));
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => proxy?.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return state;
}

describe('the RM applies a report but its answer is lost', () => {
  it('the JR sends it again; entries and finishes are applied exactly once; no finish goes ahead of its entries', async () => {
    const ledger = newLedger();
    const jrPort = await freePort();
    // A long lease: no heartbeat in the test's time tells the JR to drop a finished chain while its answer is lost.
    const rm = await startHaRm({
      jrUrl: `http://127.0.0.1:${jrPort}`,
      env: { LOG_LEVEL: 'info', SPINCYCLE_JR_LEASE: '60s' },
    });
    procs.push(rm);
    const px = await lossyProxy(rm.url);
    const jr = await startHaJr({ rmUrl: px.url, ledger, port: jrPort, env: { LOG_LEVEL: 'info' } });
    procs.push(jr);
    const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });

    const created: Request[] = [];
    for (let i = 0; i < 10; i++)
      created.push(await client.createRequest('ha-steps', { ms: String(50 + i * 20) }));
    const done = await allFinal(client, created, 30_000);
    expect(done.map((r) => r.state)).toEqual(created.map(() => State.COMPLETE));
    expect(px.droppedFor.size).toBeGreaterThan(0);

    const events = readLedger(ledger);
    for (const r of done) {
      await expectEntriesOnce(client, r, events);
      // A finish whose answer was dropped goes again (the RM has already applied it; the JR learns that now).
      const withFinishes = () =>
        px.batches.flatMap((b, i) => (b.finishes.some((f) => f.requestId === r.id) ? [i] : []));
      const withFinish = await until(
        `the finish of ${r.id} to be sent again`,
        async () => {
          const seen = withFinishes();
          return seen.length >= (px.droppedFor.has(r.id) ? 2 : 1) ? seen : undefined;
        },
        10_000,
      );
      // Entries of the chain only in batches before its finish or in a batch that carries the finish too.
      for (const [i, b] of px.batches.entries())
        if (b.logs.some((l) => l.requestId === r.id))
          expect(i < (withFinish[0] as number) || b.finishes.some((f) => f.requestId === r.id)).toBe(true);
    }
    expect(jr.log).toMatch(/reporting to the RM failed; retrying/);
    expect(jr.log).not.toMatch(/RM refused finish/);
    expect(jr.log).not.toMatch(/"level":"error"/);
    // The JR's delivery path is the batched call (and its heartbeats).
    expect([...px.paths].sort()).toEqual([
      'POST /api/v1/internal/reports',
      'PUT /api/v1/job-runners/heartbeat',
    ]);
  }, 60_000);
});
