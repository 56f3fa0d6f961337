import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder a test controls, to cut the network between one service and
 * PostgreSQL or Kafka without touching the others. `cut()` destroys every live
 * connection and blackholes new ones (accepted, then never answered, as a dead
 * link behaves: the client sees a timeout, not a quick refusal); `heal()` forwards
 * again.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly live = new Set<Socket>();
  private readonly clients = new Set<Socket>();
  private isCut = false;
  private accepted = 0;

  constructor(
    readonly listenPort: number,
    readonly targetPort: number,
    readonly targetHost = '127.0.0.1',
  ) {}

  get cutNow(): boolean {
    return this.isCut;
  }

  /** Connections accepted since start, forwarded or blackholed. */
  get connections(): number {
    return this.accepted;
  }

  /** Client connections open through the proxy now. */
  get openConnections(): number {
    return this.clients.size;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  private accept(client: Socket): void {
    this.accepted++;
    this.live.add(client);
    this.clients.add(client);
    client.once('close', () => {
      this.live.delete(client);
      this.clients.delete(client);
    });
    client.on('error', () => undefined);
    // Blackholed: held open and silent until the client gives up or heal() is called.
    if (this.isCut) return;
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.live.add(upstream);
    upstream.once('close', () => {
      this.live.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Drops every connection through the proxy and blackholes new ones. */
  cut(): void {
    this.isCut = true;
    this.dropAll();
  }

  /** Forwards again; connections blackholed during the cut are dropped so their clients reconnect. */
  heal(): void {
    this.isCut = false;
    this.dropAll();
  }

  private dropAll(): void {
    for (const socket of this.live) socket.destroy();
    this.live.clear();
    this.clients.clear();
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
