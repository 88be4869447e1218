// The entry point: listens on PORT (default 3000) and closes cleanly on SIGTERM and SIGINT.
import { createAppServer } from './server.js';

const port = Number(process.env.PORT ?? 3000);
const server = createAppServer();

server.listen(port, () => {
  process.stdout.write(`{{name}} listening on port ${port}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
