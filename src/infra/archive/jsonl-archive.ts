// The archive file of `pipelines prune --archive`: JSON lines appended to a file and synced to
// disk before the batch they belong to is deleted. Opened for appending (a second prune adds to
// it), readable by its owner only: an archived pipeline holds its inputs and outputs.
import { open } from 'node:fs/promises';
import type { PipelineArchive } from '../../services/pipeline-prune.ports.js';

/** Opens (creating it, mode 0600) the file at `path` for appending; fails before anything is pruned when it cannot. */
export async function openJsonlArchive(path: string): Promise<PipelineArchive> {
  const file = await open(path, 'a', 0o600);
  let closing: Promise<void> | undefined;
  return {
    location: path,
    async append(lines) {
      if (lines.length === 0) return;
      // A document is one line already (JSON escapes newlines inside strings).
      await file.appendFile(`${lines.join('\n')}\n`, 'utf8');
      await file.sync();
    },
    close() {
      closing ??= file.close();
      return closing;
    },
  };
}
