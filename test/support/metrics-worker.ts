// A worker runtime beside a harness started with `workers: 0`, serving the given agents (default
// every agent of the harness's catalog) with its own metrics server on an ephemeral port (the
// harness's workers have none): for the tests that scrape a worker's /metrics.
import { createWorkerRuntime, type WorkerRuntime } from '../../src/composition/worker-runtime.js';
import { loadDecisionPolicy } from '../../src/infra/policy/policy-file.js';
import { createLogger } from '../../src/infra/telemetry/logger.js';
import type { Agent } from '../../src/agents/define-agent.js';
import { expect } from 'chai';
import type { Harness } from './harness.js';
import { withAuth } from './http.js';

export async function startMetricsWorker(
  h: Harness,
  options: { serve?: readonly Agent[]; concurrency?: number } = {},
): Promise<WorkerRuntime> {
  const worker = createWorkerRuntime({
    flags: h.flags,
    config: h.config,
    logger: createLogger({ level: 'error', service: 'test', silent: true }),
    db: h.db,
    policy: loadDecisionPolicy(h.config.DECISION_POLICY_FILE),
    catalog: h.catalog,
    serve: [...(options.serve ?? h.catalog.values())],
    concurrency: options.concurrency ?? 4,
    metricsPort: 0,
  });
  await worker.start();
  return worker;
}

/**
 * The text of `<base>/metrics`, a 200 in Prometheus's text format: with the harness's admin key
 * for the API (withAuth), no header for a worker's metrics port.
 */
export async function scrapeMetrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`, { headers: withAuth(base, {}) });
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
  return res.text();
}
