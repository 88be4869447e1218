// `npm run demo [-- --auto-approve]`: the platform ships a small HTTP service. Starts the platform
// (or uses the one running at PORT), submits the `sdlc` template on the real agents, prints each
// stage as it moves, stops at the deployment's decision and says how to approve it (or approves it
// with --auto-approve), and ends with the deployed service answering its health check.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { loadedConfiguration } from './config.js';
import { ensurePlatform, type Platform } from './demo/platform-process.js';
import { openDecision, pipelineViewSchema, progressLines, type PipelineView } from './demo/progress.js';
import { TERMINAL_PIPELINE_STATUSES } from './domain/status.js';
import { shellQuote } from './domain/shell-quote.js';
import { parseEntryArgs, UsageError } from './lifecycle/entry-args.js';

const USAGE = `usage: npm run demo [-- --auto-approve] [-- --name <service name>]

Starts the platform (API, conductor and workers) unless one already answers at PORT, submits the
sdlc template for a small TypeScript HTTP service and follows it: requirements, scaffold,
validation and e2e_test, integration, then the deployment, which waits for an engineering
manager. Without --auto-approve the demo prints the command that approves it and waits;
with it, the demo approves it itself. It ends with the deployed service's /health.`;

const REQUIREMENTS = {
  requirements: 'An HTTP service that answers GET /health with 200 and {"status":"ok"} as JSON.',
  acceptanceCriteria: ['GET /health answers 200 with {"status":"ok"}', 'an unknown route answers 404'],
  confidence: 95,
};

interface Api {
  call(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

function apiAt(baseUrl: string): Api {
  return {
    async call(method, path, key, body) {
      const res = await fetch(`${baseUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    },
  };
}

function must(res: { status: number; body: Record<string, unknown> }, what: string): Record<string, unknown> {
  if (res.status >= 400) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The approver's key: kept beside the admin key (mode 0600) and reused while it still works. */
async function managerKey(api: Api, adminKey: string, file: string): Promise<{ key: string; name: string }> {
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    const me = await api.call('GET', '/whoami', key);
    if (me.status === 200) return { key, name: String(me.body.name) };
  }
  // A name of its own: separation of duties keeps the submitter (the admin key) from approving.
  const name = `demo-manager-${Date.now().toString(36)}`;
  const issued = must(await api.call('POST', '/keys', adminKey, { name, roles: ['approver', 'engineering_manager'] }), 'POST /keys');
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${String(issued.key)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key: String(issued.key), name };
}

async function follow(api: Api, key: string, id: string, onDecision: (decision: { id: string; category: string }) => Promise<void>) {
  const seen = new Map<string, string>();
  const asked = new Set<string>();
  for (;;) {
    const pipeline: PipelineView = pipelineViewSchema.parse(must(await api.call('GET', `/pipelines/${id}`, key), 'GET /pipelines/:id'));
    for (const line of progressLines(seen, pipeline)) console.log(line);
    const decision = openDecision(pipeline);
    if (decision && !asked.has(decision.id)) {
      asked.add(decision.id);
      await onDecision(decision);
    }
    if (TERMINAL_PIPELINE_STATUSES.has(pipeline.status as never)) return pipeline;
    await delay(1000);
  }
}

async function main(): Promise<number> {
  const values = parseEntryArgs('npm run demo', {
    'auto-approve': { type: 'boolean', default: false },
    name: { type: 'string', default: 'demo-service' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { config } = loadedConfiguration();
  if (config.NODE_ENV !== 'development') {
    console.error(`The demo runs in the development profile (NODE_ENV=development), not ${config.NODE_ENV}.`);
    return 1;
  }
  const baseUrl = `http://127.0.0.1:${config.PORT}`;
  const logFile = resolve(dirname(config.DEV_ADMIN_KEY_FILE), 'demo-platform.log');
  const platform: Platform = await ensurePlatform(baseUrl, logFile, (line) => console.log(line));
  const stopOnSignal = () => void platform.stop().then(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    return await run(baseUrl, config.DEV_ADMIN_KEY_FILE, values.name, values['auto-approve']);
  } finally {
    if (platform.started) {
      console.log('Stopping the platform …');
      await platform.stop();
    }
  }
}

async function run(baseUrl: string, adminKeyFile: string, name: string, autoApprove: boolean): Promise<number> {
  const api = apiAt(baseUrl);
  const adminKey = readFileSync(adminKeyFile, 'utf8').trim();
  const managerFile = join(dirname(adminKeyFile), 'demo-manager-key');
  const manager = await managerKey(api, adminKey, managerFile);

  const created = must(
    await api.call('POST', '/pipelines', adminKey, { template: 'sdlc', input: { name, ...REQUIREMENTS } }),
    'POST /pipelines',
  );
  const id = String(created.id);
  console.log(`\nPipeline ${id} (template sdlc) builds "${name}": ${REQUIREMENTS.requirements}`);
  console.log(`  follow it: npm run cli -- get ${id}   its stage logs: GET ${baseUrl}/api/v1/pipelines/${id}/stages/<key>/logs\n`);

  const done = await follow(api, adminKey, id, async (decision) => {
    if (autoApprove) {
      must(
        await api.call('POST', `/decisions/${decision.id}/approve`, manager.key, { comment: 'npm run demo -- --auto-approve' }),
        'approve',
      );
      console.log(`  ✔ decision ${decision.id} (${decision.category}) approved by ${manager.name} (--auto-approve)`);
      return;
    }
    console.log(`
  The deployment waits for an engineering manager: decision ${decision.id} (${decision.category}).
  Approve it from another terminal, as ${manager.name} (its key is in ${managerFile}):

    SDLC_API_KEY=$(cat ${shellQuote(managerFile)}) npm run cli -- approve ${decision.id}

  or reject it: SDLC_API_KEY=$(cat ${shellQuote(managerFile)}) npm run cli -- reject ${decision.id} --comment "why"
  Waiting for the answer …
`);
  });

  console.log(`\nPipeline ${done.status}.`);
  if (done.status !== 'succeeded') return 1;
  const deployment = done.stages.find((s) => s.key === 'deployment');
  const output = (deployment?.output ?? {}) as { url?: string | null; path?: string };
  if (!output.url) {
    console.log('The deployment reported no URL (a deploy hook that returned none).');
    return 0;
  }
  const res = await fetch(`${output.url}/health`);
  console.log(`GET ${output.url}/health → ${res.status} ${await res.text()}`);
  if (output.path) {
    console.log(
      `The service runs on from ${output.path} after the demo; stop it with: kill -- -$(cat ${shellQuote(join(output.path, '.release.pid'))})`,
    );
  }
  return res.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
