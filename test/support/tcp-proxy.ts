// A TCP proxy in front of a real server (the shared Redis) that a test stops and starts: an outage
// seen by the clients behind it only, while the server and every other suite carry on.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './chaos/free-port.js';

export interface TcpProxy {
  port: number;
  /** Listens on `port` (the same one every time) and forwards each connection to the target. */
  start(): Promise<void>;
  /** Stops listening and cuts every open connection: the clients see the server go away. */
  stop(): Promise<void>;
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  return {
    port,
    async start() {
      if (server) return;
      const listening = createServer((client) => {
        const upstream = createConnection(targetPort, targetHost);
        track(client);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server = listening;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, '127.0.0.1', resolve);
      });
    },
    async stop() {
      const listening = server;
      server = undefined;
      if (!listening) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listening.close(() => resolve()));
    },
  };
}
