import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP proxy on a free port to `upstream` (host:port) that a test can cut,
 * as a network partition or a killed process does: every connection through
 * it drops at once and new ones are refused, so nothing the client would send
 * on its way out (a worker's shutdown call) reaches the server.
 */
export async function tcpProxy(upstream: string) {
  const [host, port] = upstream.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let cut = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    if (cut) return void client.destroy();
    const server = connect(Number(port), host);
    track(client);
    track(server);
    client.pipe(server).pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: local } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${local}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
