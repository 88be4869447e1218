// The project templates the scaffold agent copies (templates/projects/<name>/ in the platform's
// package): listing them, reading one's files, and filling its `{{name}}`/`{{description}}`
// placeholders with values escaped for the file they land in.
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** templates/projects/ at the package root (this file is src/agents/sdlc/). */
export const DEFAULT_PROJECT_TEMPLATES_DIR = fileURLToPath(new URL('../../../templates/projects/', import.meta.url));

/** A file of a project, its path relative to the project root (POSIX separators). */
export interface ProjectFile {
  path: string;
  content: string;
}

export interface Placeholders {
  name: string;
  description: string;
}

/** Names shipped without their leading dot (npm drops `.gitignore` from packages), restored on copy. */
const RESTORED_NAMES: Readonly<Record<string, string>> = { gitignore: '.gitignore', npmrc: '.npmrc' };
/** Build output a template folder may hold after someone tried it in place; never copied. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage', '.git']);

/** The template names in `dir` (its sub-folders), sorted; none when it does not exist. */
export async function listProjectTemplates(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Every file of template `name` in `dir`, with the names shipped without a dot restored. */
export async function readProjectTemplate(dir: string, name: string): Promise<ProjectFile[]> {
  const root = join(dir, name);
  const files: ProjectFile[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
      } else if (entry.isFile()) {
        const parts = relative(root, path).split(sep);
        const last = parts.length - 1;
        parts[last] = RESTORED_NAMES[parts[last]!] ?? parts[last]!;
        files.push({ path: parts.join(posix.sep), content: await readFile(path, 'utf8') });
      }
    }
  };
  await walk(root);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Escapes a value for the file it is written into: inside a JSON string in .json files, inside a
 * quoted string or template literal in code, as it is in prose (Markdown, text).
 */
function escapeFor(path: string, value: string): string {
  const ext = extname(path).toLowerCase();
  if (ext === '.md' || ext === '.txt' || ext === '') return value;
  const json = JSON.stringify(value).slice(1, -1);
  if (ext === '.json') return json;
  return json.replace(/'/g, "\\'").replace(/`/g, '\\`').replace(/\$\{/g, '\\${');
}

/** The file with its placeholders filled. */
export function fillPlaceholders(file: ProjectFile, values: Placeholders): ProjectFile {
  const content = file.content.replace(/\{\{(name|description)\}\}/g, (_match, key: keyof Placeholders) =>
    escapeFor(file.path, values[key]),
  );
  return { path: file.path, content };
}
