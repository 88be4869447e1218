// `npm start`: the whole platform in one process (API + conductor + workers for every agent),
// creating the database and applying migrations first. For a laptop or a demo.
import { boot } from './composition/boot.js';
import { runMain } from './lifecycle/process.js';

runMain(() =>
  boot({
    service: 'all-in-one',
    tracingName: 'agentic-sdlc',
    migrations: 'apply',
    api: { dashboard: true },
    workers: (config, catalog) => ({ serve: [...catalog.values()], concurrency: config.WORKER_CONCURRENCY, conductor: true }),
  }),
);
