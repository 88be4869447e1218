// API entry: checks Redis (reachable, no eviction), Postgres and migrations, then serves the
// REST API; on SIGTERM/SIGINT it drains: readiness 503, no new connections, in-flight requests finish.
import { boot } from './composition/boot.js';
import { runMain } from './lifecycle/process.js';

runMain(() => boot({ service: 'api', tracingName: 'agentic-sdlc-api', migrations: 'check', api: { dashboard: true } }));
