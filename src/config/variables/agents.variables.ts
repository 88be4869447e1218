// Custom agents: the modules loaded at boot beside the built-in agents (docs/agents.md).
import { commaList, httpUrl, httpUrlOrEmpty, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const agentVariables = defineGroup('Agents', {
  AGENT_MODULES: {
    ...commaList(),
    default: '',
    description:
      'Comma-separated modules of custom agents, each a path (absolute, or relative to the working directory; one that starts with `./`, `../` or `/`, or ends in `.ts`, `.mts`, `.js` or `.mjs`, e.g. `my-agents/hello.agent.ts`) or the name of a package installed beside the platform. Every process imports them at boot and adds their agents to the catalog: the default export, or the named export `agents`, is an agent made with `defineAgent` from `agentic-sdlc/sdk`, or an array of them. A module that cannot be found, exports no agent, or declares a type that is already taken stops the boot naming the module. Give every process the same list. See [agents.md](agents.md#custom-agents-agent_modules).',
  },
});

/** What the http agent's guard accepts as an allow-list entry (src/agents/http-guard.ts parses it). */
const HOST_RULE = /^(\*\.)?(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+)(:([1-9]\d{0,4}))?$/;

/** What the command agent accepts as a program (src/agents/command.agent.ts): no whitespace, quotes or shell metacharacters. */
const PROGRAM_RULE = /^[^\s;&|`$<>(){}[\]*?!~'"\\#]+$/;

// The settings of the built-in agents that reach outside the workspace (docs/agents.md).
export const builtInAgentVariables = defineGroup('Built-in agents', {
  RELEASES_ROOT: {
    ...text(1),
    default: {
      development: '.agentic-sdlc/releases',
      test: '/tmp/agentic-sdlc/test-releases',
      production: '/var/lib/agentic-sdlc/releases',
    },
    description:
      "Folder under which the `deployment` agent keeps each app's releases (`<RELEASES_ROOT>/<app>/releases/<id>`) and the `current` link it switches atomically, on each worker machine. Created when missing; relative paths are from the working directory.",
  },
  DEPLOY_HOOK_URL: {
    ...httpUrlOrEmpty(),
    url: true,
    default: '',
    example: '',
    description:
      'When set, the `deployment` agent copies the release into `RELEASES_ROOT` and POSTs `{ app, release, path }` to this URL instead of starting the service itself; the hook answers with the URL to health-check. Empty: the worker starts the release as a detached process on a free port.',
  },
  DEPLOY_HOOK_TOKEN: {
    ...text(),
    secret: true,
    default: '',
    description: 'Sent as `Authorization: Bearer <token>` to `DEPLOY_HOOK_URL`. Empty: no Authorization header.',
  },
  GITHUB_TOKEN: {
    ...text(),
    secret: true,
    default: '',
    description:
      'A GitHub token with `contents:write` and `pull_requests:write`. When set, the `integration` agent pushes the branch of a workspace whose `origin` is on GitHub and opens a pull request instead of merging locally. Empty: it merges into the target branch in the workspace.',
  },
  GITHUB_API_URL: {
    ...httpUrl(),
    url: true,
    default: 'https://api.github.com',
    description: 'The GitHub REST API the `integration` agent calls (GitHub Enterprise: `https://<host>/api/v3`).',
  },
  COMMAND_ALLOWED_PROGRAMS: {
    schema: commaList().schema.refine(
      (entries) => entries.every((entry) => PROGRAM_RULE.test(entry)),
      'each entry must be a program name or path without whitespace, quotes or shell metacharacters',
    ),
    type: 'comma-separated programs',
    default: '',
    description:
      "Programs a `command` stage may run (e.g. `tsc,eslint`), compared exactly with the stage's `input.command` as written: `git` does not allow `/usr/bin/git`, and PATH is not looked up. Any other program is refused at submission with a 400 naming `stages[n].input.command`, and at run time with `COMMAND_NOT_ALLOWED`. Whoever may submit runs these programs with the worker's user, files and network, with arguments of their choosing: an interpreter (`sh`, `node`, `python`) or a program that runs what its arguments or the workspace say (`npm`, `npx`, `make`, `git`, `env`, `xargs`, `find`) gives away the worker host. Empty: every `command` stage is refused. See [security.md](security.md#the-command-agent).",
  },
  COMMAND_ENV_ALLOW_LIST: {
    ...commaList(),
    default: '',
    description:
      'Environment variables a `command` stage may set through `input.env` (e.g. `CI,NODE_ENV`); any other name is refused at submission with a 400. Beyond them the command gets only `PATH`, `HOME`, `LANG`, `TERM`, `TMPDIR` from the worker, and `CI=true`.',
  },
  HTTP_AGENT_ALLOWED_HOSTS: {
    schema: commaList().schema.refine(
      (entries) => entries.every((entry) => HOST_RULE.test(entry)),
      'each entry must be host, host:port, *.domain or *.domain:port',
    ),
    type: 'comma-separated hosts',
    default: '',
    description:
      "Hosts the `http` agent may call: `host` (its scheme's default port), `host:port`, `*.domain` or `*.domain:port`. A URL to any other host is refused at submission with a 400; a `*.domain` entry reaches public addresses only (a name resolving to a loopback, private or link-local address must be listed by itself). Empty: every `http` stage is refused.",
  },
});
