// A TCP port nobody listens on right now (the kernel picks it; we close it and hand it out).
import { createServer } from 'node:net';

/** Asks the kernel for a free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` every `everyMs` until it resolves true, or throws after `timeoutMs`. */
export async function pollUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
