// The real `scaffold` agent: creates a project in the pipeline workspace from a shipped template
// (templates/projects/), named and described from the input, optionally has code written from the
// requirements by a `writeCode` hook (an LLM, wired by the composition), then commits it with git.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, posix, relative } from 'node:path';
import { z } from 'zod';
import { UnrecoverableStageError } from '../../domain/errors.js';
import { defineAgent, type Agent, type AgentLogger, type AgentWorkspace } from '../define-agent.js';
import {
  DEFAULT_PROJECT_TEMPLATES_DIR,
  fillPlaceholders,
  listProjectTemplates,
  readProjectTemplate,
  type ProjectFile,
} from './project-template.js';

/** npm's rule for new package names: lowercase, URL-safe, optionally scoped. */
export const PACKAGE_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** What a `writeCode` hook is given: the project as the template made it, and what to build. */
export interface ScaffoldCodeRequest {
  template: string;
  name: string;
  description: string;
  requirements: string;
  files: readonly ProjectFile[];
  signal: AbortSignal;
  logger: AgentLogger;
}

/** Files to add or replace, paths relative to the project (one leading outside it is refused). */
export interface ScaffoldCodeResult {
  files: ProjectFile[];
}

export interface ScaffoldAgentOptions {
  /** The folder of project templates (default templates/projects/ in the platform's package). */
  templatesDir?: string;
  /** The identity of the first commit (default agentic-sdlc <agents@agentic-sdlc.local>). */
  author?: { name: string; email: string };
  /** Writes code from the requirements after the template is laid out; without it, the template only. */
  writeCode?: (request: ScaffoldCodeRequest) => Promise<ScaffoldCodeResult>;
}

const inputSchema = z
  .object({
    template: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/)
      .default('ts-http-service'),
    /** The package name (default: the pipeline input's `name` when valid, else the template's name). */
    name: z.string().max(214).regex(PACKAGE_NAME, 'must be an npm package name (lowercase, no spaces)').optional(),
    /** Default: the first line of the requirements. */
    description: z.string().max(1000).optional(),
    /** What to build, for `writeCode` (default: the pipeline input's `requirements`). */
    requirements: z.string().max(100_000).optional(),
    /** The project folder, relative to the workspace root (default the root). */
    path: z.string().max(500).default(''),
    /** Write into a folder that already holds files (same-named files are replaced). */
    overwrite: z.boolean().default(false),
  })
  .strict();

const outputSchema = z.object({
  summary: z.string(),
  template: z.string(),
  name: z.string(),
  description: z.string(),
  path: z.string(),
  files: z.array(z.string()),
  /** Files the `writeCode` hook wrote or replaced. */
  codeFiles: z.array(z.string()),
  commit: z.string().nullable(),
  metrics: z.object({ filesCreated: z.number().int() }),
});

const GIT_ENV = { GIT_TERMINAL_PROMPT: '0' };
const stringField = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** Runs git in the project with the agent's identity, no global signing; a failure is SCAFFOLD_GIT_FAILED. */
async function git(workspace: AgentWorkspace, cwd: string, author: { name: string; email: string }, args: string[]) {
  const identity = ['-c', `user.name=${author.name}`, '-c', `user.email=${author.email}`, '-c', 'commit.gpgsign=false'];
  return workspace.run('git', [...identity, ...args], { cwd, env: GIT_ENV, timeoutMs: 120_000 });
}

async function mustGit(workspace: AgentWorkspace, cwd: string, author: { name: string; email: string }, args: string[]): Promise<string> {
  const result = await git(workspace, cwd, author, args);
  if (result.exitCode !== 0) {
    throw new UnrecoverableStageError('SCAFFOLD_GIT_FAILED', `git ${args.join(' ')} failed: ${result.output.trim().slice(-1000)}`);
  }
  return result.output.trim();
}

/** Creates the `scaffold` agent (version 2.0.0). */
export function createScaffoldAgent(options: ScaffoldAgentOptions = {}): Agent {
  const {
    templatesDir = DEFAULT_PROJECT_TEMPLATES_DIR,
    author = { name: 'agentic-sdlc', email: 'agents@agentic-sdlc.local' },
    writeCode,
  } = options;

  return defineAgent({
    type: 'scaffold',
    version: '2.0.0',
    description: 'Creates a project in the workspace from a shipped template (ts-http-service, ts-library), then commits it with git.',
    workspace: true,
    input: inputSchema,
    output: outputSchema,
    handler: async ({ input, workspace, pipelineInput, reportMetrics, progress, signal, logger }) => {
      if (!workspace) throw new UnrecoverableStageError('AGENT_UNRECOVERABLE', 'the scaffold agent needs the pipeline workspace');
      const known = await listProjectTemplates(templatesDir);
      if (!known.includes(input.template)) {
        throw new UnrecoverableStageError(
          'SCAFFOLD_TEMPLATE_NOT_FOUND',
          `no project template "${input.template}"; known: ${known.join(', ') || `none (in ${templatesDir})`}`,
        );
      }
      const requirements = input.requirements ?? stringField(pipelineInput.requirements);
      const pipelineName = stringField(pipelineInput.name);
      const name = input.name ?? (pipelineName && PACKAGE_NAME.test(pipelineName) ? pipelineName : input.template);
      const description = (
        input.description ??
        requirements
          ?.split('\n')
          .find((line) => line.trim())
          ?.trim() ??
        `A ${input.template} project`
      ).slice(0, 1000);

      const target = await workspace.resolve(input.path);
      await mkdir(target, { recursive: true });
      const present = await readdir(target);
      if (present.length > 0 && !input.overwrite) {
        throw new UnrecoverableStageError(
          'SCAFFOLD_TARGET_NOT_EMPTY',
          `${input.path || 'the workspace root'} already holds ${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}; set overwrite to write into it`,
        );
      }

      const written = new Set<string>();
      const put = async (file: ProjectFile): Promise<string> => {
        const dest = await workspace.resolve(posix.join(input.path, file.path));
        const rel = relative(target, dest);
        if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
          throw new UnrecoverableStageError('WORKSPACE_PATH_ESCAPE', `file "${file.path}" resolves outside the project folder`);
        }
        await mkdir(dirname(dest), { recursive: true });
        await writeFile(dest, file.content);
        written.add(file.path);
        return file.path;
      };
      const files = (await readProjectTemplate(templatesDir, input.template)).map((file) => fillPlaceholders(file, { name, description }));
      for (const file of files) await put(file);
      workspace.log(`laid out ${files.length} files of template ${input.template} in ${input.path || '.'}`);
      await progress(40);

      const codeFiles: string[] = [];
      if (writeCode && requirements) {
        const result = await writeCode({ template: input.template, name, description, requirements, files, signal, logger });
        for (const file of result.files) codeFiles.push(await put(file));
        workspace.log(`wrote ${codeFiles.length} files from the requirements`);
      }
      await progress(70);

      // Inside a repository the workspace holds (a clone), commit there; else the project gets its own.
      const top = await git(workspace, input.path, author, ['rev-parse', '--show-toplevel']);
      const topPath = top.exitCode === 0 ? await workspace.resolve(top.output.trim()).catch(() => null) : null;
      if (!topPath) await mustGit(workspace, input.path, author, ['init', '--quiet', '--initial-branch=main']);
      await mustGit(workspace, input.path, author, ['add', '--all', '--', '.']);
      const staged = await git(workspace, input.path, author, ['diff', '--cached', '--quiet']);
      let commit: string | null = null;
      if (staged.exitCode === 1) {
        await mustGit(workspace, input.path, author, [
          'commit',
          '--quiet',
          '--no-verify',
          '-m',
          `Scaffold ${name} from the ${input.template} template`,
        ]);
        commit = await mustGit(workspace, input.path, author, ['rev-parse', 'HEAD']);
      }
      await progress(100);

      const all = [...written].sort();
      reportMetrics({ filesCreated: all.length });
      return {
        summary: `scaffolded ${name} from ${input.template} (${all.length} files)${commit ? `, commit ${commit.slice(0, 12)}` : ', nothing new to commit'}`,
        template: input.template,
        name,
        description,
        path: input.path,
        files: all,
        codeFiles,
        commit,
        metrics: { filesCreated: all.length },
      };
    },
  });
}
