// zod issues as the API's error details: every offending field named by its path.
import type { z } from 'zod';
import type { ErrorDetail } from './errors.js';

/** Formats a zod path as `stages[2].dependsOn[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(body)';
}

export function zodIssuesToDetails(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): ErrorDetail[] {
  return error.issues.flatMap((issue): ErrorDetail[] =>
    // An unknown key is named itself (`stages[0].colour`), not the object holding it.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          field: formatPath([...prefix, ...issue.path, key]),
          message: `unknown property "${key}"`,
          code: issue.code,
        }))
      : [{ field: formatPath([...prefix, ...issue.path]), message: issue.message, code: issue.code }],
  );
}
