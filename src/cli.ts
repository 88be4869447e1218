// `npm run cli -- <command>`: a thin REST client for people at a terminal.
//   submit <file.yaml|file.json> [--wait]   run <template> [--input '{"k":"v"}'] [--wait]
//   get <id>   list [--status S] [--name N]   cancel <id>   wait <id>   templates   agents
//   decisions [--status S]   approve <DEC-id> --as <actor> [--comment C]   reject <DEC-id> --as <actor> --comment C
//   questions [--status open]   answer <clarification-id> --as <actor> --answers '{"<question id>":"…"}'
import { parseArgs } from 'node:util';
import { readDefinitionFile } from './infra/templates/template.store.js';

const API_URL = (process.env.API_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`${API_URL}/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
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

function summary(p: Record<string, unknown>): string {
  const stages = (p.stages as Array<Record<string, unknown>> | undefined) ?? [];
  return [`${p.id}  ${p.name}  ${p.status}`, ...stages.map((s) => `  ${String(s.key).padEnd(24)} ${String(s.status).padEnd(10)} attempts=${s.attempts}`)].join('\n');
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
    },
  });
  const [command, arg] = positionals;
  const print = (p: Record<string, unknown>) => console.log(values.json ? JSON.stringify(p, null, 2) : summary(p));
  switch (command) {
    case 'submit':
    case 'run': {
      if (!arg) throw new Error(`usage: ${command} <${command === 'submit' ? 'file' : 'template'}>`);
      const body = command === 'submit' ? readDefinitionFile(arg) : { template: arg, input: values.input ? JSON.parse(values.input) : {} };
      const created = await call('POST', '/pipelines', body);
      print(values.wait ? await waitFor(String(created.id)) : created);
      return;
    }
    case 'get':
      print(await call('GET', `/pipelines/${arg}`));
      return;
    case 'wait':
      print(await waitFor(String(arg)));
      return;
    case 'cancel':
      print(await call('POST', `/pipelines/${arg}/cancel`));
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
      for (const d of items) console.log(`${d.id}  ${String(d.status).padEnd(10)} ${String(d.category).padEnd(22)} ${d.stageKey}  pipeline ${d.pipelineId}  due ${d.deadlineAt}`);
      return;
    }
    case 'approve':
    case 'reject': {
      if (!arg || !values.as) throw new Error(`usage: ${command} <DEC-id> --as <actor>${command === 'reject' ? ' --comment <why>' : ' [--comment <text>]'}`);
      const decision = await call('POST', `/decisions/${arg}/${command}`, { actor: values.as, ...(values.comment ? { comment: values.comment } : {}) });
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
      if (!arg || !values.as || !values.answers) throw new Error(`usage: answer <clarification-id> --as <actor> --answers '{"<question id>":"..."}'`);
      const answered = await call('POST', `/clarifications/${arg}/answer`, { actor: values.as, answers: JSON.parse(values.answers) });
      console.log(`${answered.id}  ${answered.status}`);
      return;
    }
    case 'templates':
    case 'agents':
      console.log(JSON.stringify((await call('GET', `/${command}`)).items, null, 2));
      return;
    default:
      console.error(
        'commands: submit <file> | run <template> [--input JSON] | get <id> | wait <id> | cancel <id> | list [--status S] [--name N] | templates | agents\n' +
          '          decisions [--status S] | approve <DEC-id> --as A [--comment C] | reject <DEC-id> --as A --comment C | questions | answer <id> --as A --answers JSON   (--wait, --json; API_URL)',
      );
      process.exit(2);
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
