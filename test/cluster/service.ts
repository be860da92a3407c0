/**
 * A Kubernetes Service on one machine: a TCP proxy on 127.0.0.1 that sends each new
 * connection to the next endpoint, round-robin (kube-proxy and a headless Service's DNS both
 * choose per connection). Endpoints are asked for on every connection, so a pod that is not
 * ready or is terminating gets no new connections; established ones stay, as in a cluster.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class ServiceProxy {
  private server: Server | undefined;
  private next = 0;
  private readonly sockets = new Set<Socket>();
  /** Connections refused because no endpoint was ready. */
  refused = 0;
  port = 0;

  constructor(
    readonly name: string,
    private readonly endpoints: () => number[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    const server = createServer((client) => {
      const eps = this.endpoints();
      if (eps.length === 0) {
        this.refused++;
        client.destroy();
        return;
      }
      const port = eps[this.next++ % eps.length] as number;
      const upstream = connect(port, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream);
      upstream.pipe(client);
      // A reset on either side resets the other, as a dead pod's connections do.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}
