/**
 * Readiness (`GET /ready`) of real RM and JR processes on MariaDB: 200 while
 * serving; the RM answers 503 while its database cannot be reached (its
 * connection goes through a TCP relay the test closes) and 200 again once it
 * can; a JR answers 503 while it drains on SIGTERM with a job running (the RM
 * is paused with SIGSTOP, so the hand-off cannot finish before the test looks).
 * Liveness (`/health`) stays 200 throughout.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { RmClient } from '@spincycle/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, newMysqlDatabase, type ServiceProcess } from '../support/system.js';
import { newLedger, readLedger, startHaJr, startHaRm, until } from './support.js';

/** A TCP relay to MariaDB that can be closed (connections cut, port refused) and opened again on the same port. */
class DbRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

async function probe(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

const procs: ServiceProcess[] = [];
const relays: DbRelay[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) {
    p.proc.kill('SIGCONT');
    await p.stop('SIGKILL');
  }
  for (const r of relays) await r.close();
});

describe('GET /ready', () => {
  it('RM: 200 when serving, 503 naming the problem while MariaDB is unreachable, 200 again after; /health stays 200', async () => {
    const direct = new URL(await newMysqlDatabase());
    const relay = new DbRelay(await freePort(), { host: direct.hostname, port: Number(direct.port || 3306) });
    relays.push(relay);
    await relay.open();
    const viaRelay = new URL(direct.href);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    const rm = await startHaRm({ jrUrl: `http://127.0.0.1:${await freePort()}`, mysqlUrl: viaRelay.href });
    procs.push(rm);

    expect(await probe(`${rm.url}/ready`)).toEqual({ status: 200, body: 'OK' });

    await relay.close();
    const down = await until('the RM to report not ready', async () => {
      const r = await probe(`${rm.url}/ready`);
      return r.status === 503 ? r : undefined;
    });
    expect(JSON.parse(down.body)).toEqual({
      message: expect.stringMatching(/^not ready: database unreachable \(.+\)$/),
      requestId: '',
      httpStatus: 503,
    });
    expect(down.body).not.toContain(direct.pathname.slice(1));
    expect((await probe(`${rm.url}/health`)).status).toBe(200);

    await relay.open();
    await until('the RM to be ready again', async () => (await probe(`${rm.url}/ready`)).status === 200);
  });

  it('JR: 200 when taking chains, 503 while it drains on SIGTERM with a job running; /health stays 200; it exits 0', async () => {
    const ledger = newLedger();
    const jrPort = await freePort();
    const rm = await startHaRm({ jrUrl: `http://127.0.0.1:${jrPort}` });
    procs.push(rm);
    const jr = await startHaJr({ rmUrl: rm.url, ledger, port: jrPort });
    procs.push(jr);
    expect(await probe(`${jr.url}/ready`)).toEqual({ status: 200, body: 'OK' });
    expect(await probe(`${rm.url}/ready`)).toEqual({ status: 200, body: 'OK' });

    const client = new RmClient({ baseURL: rm.url, retry: { attempts: 1 } });
    const req = await client.createRequest('ha-nap', { ms: '30000' });
    await until('the job to start', async () =>
      readLedger(ledger).some((e) => e.requestId === req.id && e.event === 'start'),
    );

    // Paused, the RM cannot take the suspended chain: the JR stays in its hand-off.
    rm.proc.kill('SIGSTOP');
    jr.proc.kill('SIGTERM');
    const draining = await until('the JR to report not ready', async () => {
      const r = await probe(`${jr.url}/ready`);
      return r.status === 503 ? r : undefined;
    });
    expect(JSON.parse(draining.body)).toEqual({
      message: 'not ready: Job Runner is shutting down - no new job chains are being started',
      requestId: '',
      httpStatus: 503,
    });
    expect((await probe(`${jr.url}/health`)).status).toBe(200);

    rm.proc.kill('SIGCONT');
    expect(await jr.exited).toBe(0);
  });
});
