// The complete custom-agent example of docs/agents.md (its one ```ts title="…" block), written out
// as a reader would: into a project of its own, an ES module package with the platform installed
// as its `agentic-sdlc` dependency (the link `npm install <checkout>` makes).
import { expect } from 'chai';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const PLATFORM_ROOT = resolve(import.meta.dirname, '../..');
const TITLED_TS_BLOCK = /^```ts title="([^"]+)"\n([\s\S]*?)^```$/gm;

export interface DocExampleProject {
  /** The project folder (a new temporary directory: the caller removes it). */
  root: string;
  /** The example's path inside it, as the doc's block title gives it. */
  path: string;
  /** The code, exactly as the doc shows it. */
  code: string;
}

/** Writes the doc's example into a new temporary project; asserts the doc has exactly one. */
export async function writeDocExampleProject(): Promise<DocExampleProject> {
  const doc = await readFile(join(PLATFORM_ROOT, 'docs/agents.md'), 'utf8');
  const blocks = [...doc.matchAll(TITLED_TS_BLOCK)].map(([, path, code]) => ({ path: path!, code: code! }));
  expect(
    blocks.map((b) => b.path),
    'docs/agents.md holds one complete example',
  ).to.deep.equal(['my-agents/hello.agent.ts']);
  const { path, code } = blocks[0]!;
  const root = await mkdtemp(join(tmpdir(), 'agents-doc-example-'));
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'my-agents', private: true, type: 'module' }));
  await mkdir(join(root, 'node_modules'));
  await symlink(PLATFORM_ROOT, join(root, 'node_modules', 'agentic-sdlc'), 'dir');
  await symlink(join(PLATFORM_ROOT, 'node_modules', '@types'), join(root, 'node_modules', '@types'), 'dir');
  await mkdir(join(root, dirname(path)), { recursive: true });
  await writeFile(join(root, path), code);
  return { root, path, code };
}
