import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { SseClient } from './sse-client';

/** A real HTTP server and a raw TCP client that reads only when told to. */
async function openStream(): Promise<{ server: Server; response: ServerResponse; socket: Socket }> {
  let response!: ServerResponse;
  const server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    response = res;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!response) await new Promise((r) => setTimeout(r, 5));
  return { server, response, socket };
}

const entry = (version: number) => ({ version, type: 'PaymentAuthorized', at: new Date(0).toISOString(), source: 'payment' });

describe('a live stream to one client', () => {
  it('sends each event once, after the version the client has, and the status only when it changes', async () => {
    const { server, response, socket } = await openStream();
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    const client = new SseClient(response, 1, 65_536, () => undefined);
    client.deliver([entry(1), entry(2)], { status: 'PENDING', cancellable: true });
    client.deliver([entry(1), entry(2), entry(3)], { status: 'PENDING', cancellable: true });
    await new Promise((r) => setTimeout(r, 50));
    expect(received.match(/^id: \d+$/gm)).toEqual(['id: 2', 'id: 3']);
    expect(received.match(/^event: status$/gm)).toHaveLength(1);
    client.close('ended');
    socket.destroy();
    server.close();
  });

  it('drops a client that stops reading once its unread bytes pass the bound, and says why', async () => {
    const { server, response, socket } = await openStream();
    socket.pause(); // reads nothing: the kernel's buffers fill, then the response's own
    const reasons: string[] = [];
    const client = new SseClient(response, 0, 16_384, (_, reason) => reasons.push(reason));
    const big = 'x'.repeat(4_096);
    for (let i = 0; i < 10_000 && !client.isClosed; i++) {
      client.write(`data: ${big}\n\n`);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(client.isClosed).toBe(true);
    expect(reasons).toEqual(['slow']);
    expect(response.destroyed).toBe(true);
    // What waited in the response never grew past the bound.
    expect(response.writableLength).toBeLessThanOrEqual(16_384);
    socket.destroy();
    server.close();
  });

  it('reports a client that went away, once', async () => {
    const { server, response, socket } = await openStream();
    const reasons: string[] = [];
    new SseClient(response, 0, 65_536, (_, reason) => reasons.push(reason));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(reasons).toEqual(['gone']);
    server.close();
  });
});
