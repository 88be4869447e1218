// `npm run cli -- <command>`: a thin REST client for people at a terminal, sending the API key of
// SDLC_API_KEY (else the development admin key file that `npm start` writes). Who acts is the
// key's identity: there is no --as.
//   submit <file.yaml|file.json> [--wait]   run <template> [--input '{"k":"v"}'] [--wait]
//   get <id>   list [--status S] [--name N]   cancel <id>   wait <id>   templates   agents   whoami
//   decisions [--status S]   approve <DEC-id> [--comment C]   reject <DEC-id> --comment C
//   questions [--status open]   answer <clarification-id> --answers '{"<question id>":"…"}'
// For operators: dlq [--agent A] [--pipeline ID]   replay <job-id> | --fingerprint F | --agent A   health
// Keys, straight in Postgres (no API needed, so the first admin key can be made here):
//   keys create --name N --role R [--role R…] [--expires 30d] [--service] [--json]
//   keys list [--all]   keys revoke <id>   keys rotate <id> [--overlap 1h] [--expires 90d]
// Configuration of this environment (no API needed): config print [--json]
//   config keygen   config encrypt --name VAR (value on stdin)   config rotate --file .env   config check [--file .env]
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { TERMINAL_PIPELINE_STATUSES } from './domain/status.js';
import { readDefinitionFile } from './infra/templates/template.store.js';
import { runKeysCommand } from './composition/keys-cli.js';
import { runConfigPrint } from './composition/config-cli.js';
import { SECRETS_COMMANDS, SECRETS_USAGE, runSecretsCommand } from './composition/secrets-cli.js';

const API_URL = (process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/$/, '');
const DEV_KEY_FILE = process.env.DEV_ADMIN_KEY_FILE ?? '.agentic-sdlc/admin-key';

/** SDLC_API_KEY, else the development admin key `npm start` wrote; undefined when neither exists. */
function apiKey(): string | undefined {
  if (process.env.SDLC_API_KEY) return process.env.SDLC_API_KEY.trim();
  return existsSync(DEV_KEY_FILE) ? readFileSync(DEV_KEY_FILE, 'utf8').trim() || undefined : undefined;
}
const TERMINAL: ReadonlySet<string> = TERMINAL_PIPELINE_STATUSES;

/** A call under /api/v1; `root` for the operator endpoints outside it (/health/detailed). */
async function call(method: string, path: string, body?: unknown, { root = false } = {}): Promise<Record<string, unknown>> {
  let res: Response;
  const key = apiKey();
  if (!key) throw new Error(`no API key: set SDLC_API_KEY (or, in development, start the platform once: it writes ${DEV_KEY_FILE})`);
  try {
    res = await fetch(`${API_URL}${root ? '' : '/api/v1'}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        authorization: `Bearer ${key}`,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`cannot reach the API at ${API_URL} (set API_URL): ${(error as Error).message}`, { cause: error });
  }
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    console.error(JSON.stringify(json, null, 2));
    process.exit(1);
  }
  return json;
}

async function waitFor(id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const pipeline = await call('GET', `/pipelines/${id}`);
    if (TERMINAL.has(String(pipeline.status))) return pipeline;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A pipeline answer with the stages it left to GET /pipelines/:id/stages (stagesNextCursor) read in. */
async function withAllStages(p: Record<string, unknown>): Promise<Record<string, unknown>> {
  const stages = [...((p.stages as unknown[] | undefined) ?? [])];
  let cursor = p.stagesNextCursor;
  while (typeof cursor === 'string') {
    const page = (await call('GET', `/pipelines/${String(p.id)}/stages?cursor=${encodeURIComponent(cursor)}`)) as {
      items: unknown[];
      nextCursor: unknown;
    };
    stages.push(...page.items);
    cursor = page.nextCursor;
  }
  return p.stagesNextCursor === undefined ? p : { ...p, stages, stagesNextCursor: null };
}

function summary(p: Record<string, unknown>): string {
  const stages = (p.stages as Array<Record<string, unknown>> | undefined) ?? [];
  return [
    `${p.id}  ${p.name}  ${p.status}`,
    ...stages.map((s) => `  ${String(s.key).padEnd(24)} ${String(s.status).padEnd(10)} attempts=${s.attempts}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      wait: { type: 'boolean', default: false },
      input: { type: 'string' },
      status: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
      as: { type: 'string' },
      comment: { type: 'string' },
      answers: { type: 'string' },
      agent: { type: 'string' },
      pipeline: { type: 'string' },
      fingerprint: { type: 'string' },
      role: { type: 'string', multiple: true },
      expires: { type: 'string' },
      overlap: { type: 'string' },
      service: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      file: { type: 'string' },
    },
  });
  const [command, arg] = positionals;
  if (values.as !== undefined) throw new Error('--as is not accepted: the actor is the identity of your API key (SDLC_API_KEY).');
  const print = async (answer: Record<string, unknown>) => {
    const p = await withAllStages(answer);
    console.log(values.json ? JSON.stringify(p, null, 2) : summary(p));
  };
  switch (command) {
    case 'submit':
    case 'run': {
      if (!arg) throw new Error(`usage: ${command} <${command === 'submit' ? 'file' : 'template'}>`);
      const body = command === 'submit' ? readDefinitionFile(arg) : { template: arg, input: values.input ? JSON.parse(values.input) : {} };
      const created = await call('POST', '/pipelines', body);
      await print(values.wait ? await waitFor(String(created.id)) : created);
      return;
    }
    case 'get':
      await print(await call('GET', `/pipelines/${arg}`));
      return;
    case 'wait':
      await print(await waitFor(String(arg)));
      return;
    case 'cancel':
      await print(await call('POST', `/pipelines/${arg}/cancel`));
      return;
    case 'list': {
      const query = new URLSearchParams();
      if (values.status) query.set('status', values.status);
      if (values.name) query.set('name', values.name);
      const { items } = (await call('GET', `/pipelines?${query}`)) as { items: Array<Record<string, unknown>> };
      for (const p of items) console.log(`${p.id}  ${String(p.status).padEnd(10)} ${p.name}  ${p.createdAt}`);
      return;
    }
    case 'decisions': {
      const query = new URLSearchParams(values.status ? { status: values.status } : {});
      const { items } = (await call('GET', `/decisions?${query}`)) as { items: Array<Record<string, unknown>> };
      for (const d of items)
        console.log(
          `${d.id}  ${String(d.status).padEnd(10)} ${String(d.category).padEnd(22)} ${d.stageKey}  pipeline ${d.pipelineId}  due ${d.deadlineAt}`,
        );
      return;
    }
    case 'approve':
    case 'reject': {
      if (!arg) throw new Error(`usage: ${command} <DEC-id>${command === 'reject' ? ' --comment <why>' : ' [--comment <text>]'}`);
      const decision = await call('POST', `/decisions/${arg}/${command}`, values.comment ? { comment: values.comment } : {});
      console.log(`${decision.id}  ${decision.status}`);
      return;
    }
    case 'questions': {
      const query = new URLSearchParams({ status: values.status ?? 'open' });
      const { items } = (await call('GET', `/clarifications?${query}`)) as { items: Array<Record<string, unknown>> };
      for (const c of items) {
        console.log(`${c.id}  pipeline ${c.pipelineId}  ${c.stageKey ?? '(submission)'}`);
        for (const q of c.questions as Array<Record<string, unknown>>) console.log(`  ${String(q.id).padEnd(32)} ${q.question}`);
      }
      return;
    }
    case 'answer': {
      if (!arg || !values.answers) throw new Error(`usage: answer <clarification-id> --answers '{"<question id>":"..."}'`);
      const answered = await call('POST', `/clarifications/${arg}/answer`, { answers: JSON.parse(values.answers) });
      console.log(`${answered.id}  ${answered.status}`);
      return;
    }
    case 'dlq': {
      const query = new URLSearchParams({
        limit: '100',
        ...(values.agent ? { agent: values.agent } : {}),
        ...(values.pipeline ? { pipelineId: values.pipeline } : {}),
      });
      const page = (await call('GET', `/dlq?${query}`)) as {
        items: Array<Record<string, unknown>>;
        groups: Array<Record<string, unknown>>;
        total: number;
      };
      if (values.json) return void console.log(JSON.stringify(page, null, 2));
      console.log(`${page.total} failed job(s)`);
      for (const g of page.groups)
        console.log(`  group ${g.fingerprint}  ${String(g.count).padStart(4)} x ${g.agent}  ${g.code}: ${g.message}`);
      for (const j of page.items) {
        const error = j.error as { code: string; message: string };
        console.log(
          `${j.jobId}  ${String(j.agent).padEnd(14)} ${j.stageKey}  pipeline ${j.pipelineId}  ${error.code}: ${error.message}  ${j.replayable ? 'replayable' : `blocked: ${j.replayBlockedBy}`}`,
        );
      }
      return;
    }
    case 'replay': {
      const actor = {};
      if (arg) {
        const replay = await call('POST', `/dlq/${arg}/retry`, actor);
        console.log(`${replay.jobId}  ${replay.mode}  pipeline ${replay.pipelineId}  stage ${replay.stageKey}`);
        return;
      }
      if (!values.fingerprint && !values.agent) throw new Error('usage: replay <job-id> | replay --fingerprint F | replay --agent A');
      const report = (await call('POST', '/dlq/retry', {
        ...(values.fingerprint ? { fingerprint: values.fingerprint } : { agent: values.agent }),
        ...actor,
      })) as {
        matched: number;
        replayed: number;
        skipped: Array<{ jobId: string; reason: string }>;
      };
      console.log(`matched ${report.matched}, replayed ${report.replayed}, skipped ${report.skipped.length}`);
      for (const s of report.skipped) console.log(`  skipped ${s.jobId}: ${s.reason}`);
      return;
    }
    case 'health': {
      const health = await call('GET', '/health/detailed', undefined, { root: true });
      if (values.json) return void console.log(JSON.stringify(health, null, 2));
      console.log(`${health.status}  version ${health.version}  up ${health.uptimeSeconds} s`);
      for (const c of health.components as Array<Record<string, unknown>>)
        console.log(`  ${String(c.name).padEnd(10)} ${c.ok ? 'ok' : `FAILING: ${c.error}`}  ${c.latencyMs} ms`);
      console.log(`  workers online: ${JSON.stringify(health.workers)}`);
      console.log(`  breakers: ${JSON.stringify(health.breakers)}`);
      return;
    }
    case 'whoami': {
      const me = await call('GET', '/whoami');
      console.log(
        values.json ? JSON.stringify(me, null, 2) : `${me.name}  (${me.kind}, via ${me.via})  roles: ${(me.roles as string[]).join(', ')}`,
      );
      return;
    }
    case 'keys':
      await runKeysCommand(positionals.slice(1), values, userInfo().username);
      return;
    case 'config':
      if (arg === 'print') return runConfigPrint({ json: values.json });
      if (arg && SECRETS_COMMANDS.has(arg)) return runSecretsCommand(positionals.slice(1), { name: values.name, file: values.file });
      throw new Error(`usage: config print [--json]\n${SECRETS_USAGE}`);
    case 'templates':
    case 'agents':
      console.log(JSON.stringify((await call('GET', `/${command}`)).items, null, 2));
      return;
    default:
      console.error(
        'commands: submit <file> | run <template> [--input JSON] | get <id> | wait <id> | cancel <id> | list [--status S] [--name N] | templates | agents | whoami\n' +
          '          decisions [--status S] | approve <DEC-id> [--comment C] | reject <DEC-id> --comment C | questions | answer <id> --answers JSON\n' +
          '          dlq [--agent A] [--pipeline ID] | replay <job-id> | replay --fingerprint F | replay --agent A | health\n' +
          '          keys create --name N --role R [--role R] [--expires 30d] [--service] | keys list [--all] | keys revoke <id> | keys rotate <id> [--overlap 1h] [--expires 90d]\n' +
          '          config print [--json]   (the effective configuration, secrets masked)\n' +
          '          config keygen | config encrypt --name VAR (value on stdin) | config rotate --file .env | config check [--file .env]\n' +
          '          (--wait, --json; API_URL, SDLC_API_KEY; keys use DATABASE_URL)',
      );
      process.exit(2);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
