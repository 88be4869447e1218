// A local stand-in for an Unleash server's client API (GET /api/client/features), whose flags a
// test changes at will: the platform's unleash-client polls it like the real server. The real
// server runs in test/integration/unleash-server.test.ts; this one starts in milliseconds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlagDefinition } from '../../src/infra/flags/unleash-flags.js';

export interface FlagServer {
  /** The API base to give as UNLEASH_URL. */
  url: string;
  /** Replaces the served flags. */
  set(features: FlagDefinition[]): void;
  /** Stops the server: the clients keep their last known flags. */
  close(): Promise<void>;
}

/** A flag that is simply on or off. */
export function simpleFlag(name: string, enabled: boolean): FlagDefinition {
  return {
    name,
    enabled,
    type: 'release',
    project: 'default',
    stale: false,
    strategies: [{ name: 'default', parameters: {}, constraints: [] }],
    variants: [],
    impressionData: false,
  } as FlagDefinition;
}

export async function startFlagServer(initial: FlagDefinition[] = []): Promise<FlagServer> {
  let features = initial;
  let version = 1;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/api/client/features')) {
      res.writeHead(200, { 'content-type': 'application/json', etag: `"v${version}"` });
      res.end(JSON.stringify({ version: 2, features }));
      return;
    }
    // Registration and metrics posts: accepted and ignored.
    res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    set(next) {
      features = next;
      version += 1;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
