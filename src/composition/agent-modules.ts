// Loads the custom agents named by AGENT_MODULES at boot: each module is imported, its default
// export (or named export `agents`) checked to be an agent made with defineAgent, or an array of
// them, and a type that is taken already refused. Any problem stops the boot naming the module.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AGENT_TYPE_PATTERN, type Agent } from '../agents/define-agent.js';
import { BootError } from '../domain/boot-error.js';

export interface AgentModuleOptions {
  /** Relative module paths are resolved from here (default: the process's working directory). */
  cwd?: string;
  /** The agents already in the catalog (the built-ins): a module may not reuse their types. */
  builtIns: readonly Agent[];
}

// A path when it looks like one; anything else (`acme-agents`, `@acme/agents/sdlc`) is a package
// name, resolved from the platform's own node_modules.
const PATH_LIKE = /^(\.{1,2}[\\/]|[\\/])|\.(m|c)?[jt]s$/;

/** The specifier to import: a file URL for a path (relative to `cwd`), the name itself for a package. */
export function moduleSpecifier(entry: string, cwd: string): string {
  if (!PATH_LIKE.test(entry) && !isAbsolute(entry)) return entry;
  return pathToFileURL(isAbsolute(entry) ? entry : resolve(cwd, entry)).href;
}

/**
 * Imports every module of `entries` (AGENT_MODULES, in order) and returns their agents. Throws a
 * BootError naming the module and what is wrong: not found, failed to load, no agent exported,
 * not an agent, or a type that clashes with a built-in or another module's.
 */
export async function loadAgentModules(entries: readonly string[], options: AgentModuleOptions): Promise<Agent[]> {
  const cwd = options.cwd ?? process.cwd();
  const owners = new Map<string, string>(options.builtIns.map((agent) => [agent.type, 'a built-in agent']));
  const loaded: Agent[] = [];
  for (const entry of entries) {
    const agents = agentsOf(entry, await importModule(entry, moduleSpecifier(entry, cwd)));
    for (const agent of agents) {
      const owner = owners.get(agent.type);
      if (owner) fail(entry, `declares agent type "${agent.type}", which is ${owner}; choose another type`);
      owners.set(agent.type, `declared by the module "${entry}"`);
      loaded.push(agent);
    }
  }
  return loaded;
}

async function importModule(entry: string, specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const text = String(message ?? error);
    // Only the module itself missing is "not found"; a dependency it lacks is a load failure.
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT') && namesModule(text, entry, specifier)) {
      fail(entry, `not found (looked for ${specifier.startsWith('file:') ? new URL(specifier).pathname : `the package "${entry}"`})`);
    }
    const hint = code === 'ERR_UNKNOWN_FILE_EXTENSION' ? ' (a TypeScript module loads only under tsx, as `npm start` runs)' : '';
    fail(entry, `failed to load: ${text.split('\n')[0]}${hint}`);
  }
}

function namesModule(message: string, entry: string, specifier: string): boolean {
  const firstLine = message.split('\n')[0] ?? '';
  const path = specifier.startsWith('file:') ? new URL(specifier).pathname : entry;
  // "Cannot find module '/abs/x.ts' imported from …" / "Cannot find package 'acme' imported from …"
  return firstLine.includes(`'${path}'`) || firstLine.includes(`'${entry}'`) || firstLine.includes(specifier);
}

/** The agents a module exports: its default export, else its `agents`, each checked. */
function agentsOf(entry: string, exports: Record<string, unknown>): Agent[] {
  const exported = exports.default !== undefined ? { name: 'default export', value: exports.default } : undefined;
  const named = exports.agents !== undefined ? { name: 'export `agents`', value: exports.agents } : undefined;
  const found = exported ?? named;
  if (!found) {
    const names = Object.keys(exports);
    fail(
      entry,
      `exports no agent: expected a default export or a named export \`agents\` (an agent made with defineAgent, or an array of them); it exports ${names.length > 0 ? names.join(', ') : 'nothing'}`,
    );
  }
  const values = Array.isArray(found.value) ? found.value : [found.value];
  if (values.length === 0) fail(entry, `its ${found.name} is an empty array: export at least one agent`);
  const seen = new Set<string>();
  return values.map((value, index) => {
    const where = Array.isArray(found.value) ? `${found.name}[${index}]` : found.name;
    const problems = agentProblems(value);
    if (problems.length > 0)
      fail(entry, `its ${where} is not an agent made with defineAgent from agentic-sdlc/sdk: ${problems.join('; ')}`);
    const agent = value as Agent;
    if (seen.has(agent.type)) fail(entry, `declares agent type "${agent.type}" twice`);
    seen.add(agent.type);
    return agent;
  });
}

/** What keeps `value` from being an Agent, as defineAgent builds it; empty when nothing does. */
function agentProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [`it is ${value === null ? 'null' : typeof value}`];
  const candidate = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof candidate.type !== 'string') problems.push('no string `type`');
  else if (!AGENT_TYPE_PATTERN.test(candidate.type)) problems.push(`type "${candidate.type}" does not match ${AGENT_TYPE_PATTERN}`);
  if (typeof candidate.version !== 'string' || candidate.version.length === 0) problems.push('no string `version`');
  if (candidate.nextVersion !== undefined && typeof candidate.nextVersion !== 'string') problems.push('`nextVersion` is not a string');
  if (typeof candidate.description !== 'string') problems.push('no string `description`');
  if (typeof candidate.needsWorkspace !== 'boolean') problems.push('no boolean `needsWorkspace`');
  for (const method of ['validateInput', 'execute'] as const) {
    if (typeof candidate[method] !== 'function') problems.push(`no \`${method}()\``);
  }
  return problems;
}

function fail(entry: string, what: string): never {
  throw new BootError('CONFIG_INVALID', `AGENT_MODULES: module "${entry}": ${what}.`);
}
