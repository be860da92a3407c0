#!/usr/bin/env node
// A do-nothing stand-in for the Request Manager, for calibrating `pnpm bench`:
// the load driver runs its workloads against this, so the table can
// show what the driver itself reaches on this machine (its ceiling) beside
// what the real RM + JR + MariaDB reach. It answers the three calls that
// workload makes with fixed bodies of the real shapes; it stores nothing.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);
let n = 0;
const request = (id, state) =>
  JSON.stringify({
    id,
    type: 'bench-sleep',
    state,
    user: '',
    args: [
      {
        Pos: 0,
        Name: 'sleepTime',
        Desc: 'milliseconds to sleep',
        Type: 'optional',
        Given: true,
        Default: '100',
        Value: '100',
      },
    ],
    createdAt: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    finishedAt: state === 3 ? new Date().toISOString() : null,
    totalJobs: 15,
    finishedJobs: state === 3 ? 15 : 0,
    jrURL: 'http://127.0.0.1:1',
  });

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const send = (status, body, headers = {}) => {
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        ...headers,
      });
      res.end(body);
    };
    if (req.method === 'POST' && req.url === '/api/v1/requests') {
      const id = `stub${(n++).toString().padStart(16, '0')}`;
      return send(201, request(id, 2), { Location: `/api/v1/requests/${id}` });
    }
    // Find: the last request created, COMPLETE (what the driver polls for one big request).
    if (req.method === 'GET' && req.url.startsWith('/api/v1/requests?'))
      return send(200, n === 0 ? '[]' : `[${request(`stub${(n - 1).toString().padStart(16, '0')}`, 3)}]`);
    if (req.method === 'GET' && req.url.endsWith('/log')) return send(200, '[]');
    if (req.method === 'GET' && req.url.startsWith('/api/v1/requests/'))
      return send(200, request(req.url.split('/')[4], 3));
    send(404, JSON.stringify({ message: 'not found', httpStatus: 404 }));
  });
});
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
