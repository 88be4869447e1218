// What a project in the workspace has: its package.json, which tools its node_modules holds,
// whether its dependencies need installing, and which typecheck and lint commands fit it.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const packageJsonSchema = z
  .object({
    scripts: z.record(z.string(), z.string()).optional(),
    dependencies: z.record(z.string(), z.string()).optional(),
    devDependencies: z.record(z.string(), z.string()).optional(),
    eslintConfig: z.unknown().optional(),
  })
  .loose();

export interface Project {
  /** The project folder (absolute, inside the workspace). */
  dir: string;
  /** Whether it has a package.json (a parsable one). */
  hasPackageJson: boolean;
  scripts: Record<string, string>;
  /** Names in dependencies and devDependencies. */
  declared: ReadonlySet<string>;
  eslintConfigInPackageJson: boolean;
}

/** Reads the project's package.json; a folder without one is a project with no scripts or dependencies. */
export async function readProject(dir: string): Promise<Project> {
  let text: string | null = null;
  try {
    text = await readFile(join(dir, 'package.json'), 'utf8');
  } catch {
    // no package.json: tsc or eslint may still apply
  }
  const parsed = text === null ? null : packageJsonSchema.safeParse(safeJson(text));
  const pkg = parsed?.success ? parsed.data : null;
  return {
    dir,
    hasPackageJson: pkg !== null,
    scripts: pkg?.scripts ?? {},
    declared: new Set([...Object.keys(pkg?.dependencies ?? {}), ...Object.keys(pkg?.devDependencies ?? {})]),
    eslintConfigInPackageJson: pkg?.eslintConfig !== undefined,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const hasFile = (project: Project, relative: string): boolean => existsSync(join(project.dir, relative));

/** The project's own binary, as a path relative to the project (spawned with the project as cwd). */
export const localBin = (name: string) => `node_modules/.bin/${name}`;
export const hasBin = (project: Project, name: string): boolean => hasFile(project, localBin(name));

export interface InstallPlan {
  needed: boolean;
  reason: string;
  argv: string[];
}

const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json'];

async function mtime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/**
 * Install when the project declares dependencies and has no node_modules, or its lockfile is newer
 * than the last install (npm's node_modules/.package-lock.json, else the folder itself).
 */
export async function planInstall(project: Project): Promise<InstallPlan> {
  const lockfile = LOCKFILES.find((name) => hasFile(project, name));
  const argv = lockfile ? ['npm', 'ci', '--no-audit', '--no-fund'] : ['npm', 'install', '--no-audit', '--no-fund'];
  if (!project.hasPackageJson) return { needed: false, reason: 'no package.json', argv };
  if (project.declared.size === 0) return { needed: false, reason: 'package.json declares no dependencies', argv };
  const installed =
    (await mtime(join(project.dir, 'node_modules', '.package-lock.json'))) ?? (await mtime(join(project.dir, 'node_modules')));
  if (installed === null) return { needed: true, reason: 'no node_modules', argv };
  const locked = lockfile ? await mtime(join(project.dir, lockfile)) : null;
  if (locked !== null && locked > installed) return { needed: true, reason: `${lockfile} is newer than node_modules`, argv };
  return { needed: false, reason: 'node_modules is up to date', argv };
}

/** A check's plan: the command to run, or why it is skipped. */
export type CheckPlan = { argv: string[]; detected: string } | { skip: string };

/** `tsc --noEmit` when the project has a tsconfig.json and typescript is installed. */
export function planTypecheck(project: Project): CheckPlan {
  if (!hasFile(project, 'tsconfig.json')) return { skip: 'no tsconfig.json' };
  if (!hasBin(project, 'tsc')) return { skip: 'tsconfig.json found but typescript is not installed (no node_modules/.bin/tsc)' };
  return { argv: [localBin('tsc'), '--noEmit', '--pretty', 'false'], detected: 'tsconfig.json and node_modules/.bin/tsc' };
}

const ESLINT_CONFIGS = [
  'eslint.config.js',
  'eslint.config.mjs',
  'eslint.config.cjs',
  'eslint.config.ts',
  'eslint.config.mts',
  'eslint.config.cts',
  '.eslintrc',
  '.eslintrc.js',
  '.eslintrc.cjs',
  '.eslintrc.json',
  '.eslintrc.yml',
  '.eslintrc.yaml',
];

/** `eslint --format json .` when the project has an ESLint configuration and eslint is installed. */
export function planLint(project: Project): CheckPlan {
  const config =
    ESLINT_CONFIGS.find((name) => hasFile(project, name)) ?? (project.eslintConfigInPackageJson ? 'package.json eslintConfig' : undefined);
  if (!config) return { skip: 'no ESLint configuration' };
  if (!hasBin(project, 'eslint')) return { skip: `${config} found but eslint is not installed (no node_modules/.bin/eslint)` };
  return { argv: [localBin('eslint'), '--format', 'json', '.'], detected: config };
}
