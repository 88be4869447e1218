// Where a pipeline's workspace lives under WORKSPACE_ROOT, checked: the name must be a pipeline
// id (a uuid), and the path must stay inside the root (no `..`, no symlink out of it).
import { mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a pipeline id (a lower-case uuid), the only name a workspace folder may have. */
export function isPipelineId(name: string): boolean {
  return UUID_PATTERN.test(name);
}

/** True when `path` is `root` or below it (both absolute, already resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The root made absolute and real (created when missing). */
export async function prepareRoot(root: string): Promise<string> {
  await mkdir(resolve(root), { recursive: true });
  return realpath(resolve(root));
}

/**
 * `<root>/<pipelineId>`; throws when the id is not a uuid or the folder, where it exists, is a
 * link that resolves outside the root.
 */
export async function workspacePath(root: string, pipelineId: string): Promise<string> {
  if (!isPipelineId(pipelineId)) throw new Error(`workspace name "${pipelineId}" is not a pipeline id`);
  const path = join(root, pipelineId);
  const real = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return path;
    throw error;
  });
  if (!isInside(root, real) || real === root) throw new Error(`workspace of ${pipelineId} resolves outside ${root}`);
  return path;
}
