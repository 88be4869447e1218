// `input.repository` of a pipeline: the git repository its workspace is cloned from. Checked at
// submission so a bad URL or ref is a 400 naming the field, never a failed clone later.
import { z } from 'zod';
import type { ErrorDetail } from './errors.js';
import type { JsonObject } from './json.js';
import { repositoryRefusal } from './repository-allow.js';
import { zodIssuesToDetails } from './zod-details.js';

/** https://, ssh://, file:// URLs, scp-like `user@host:path` and absolute local paths; nothing a shell or git option could read. */
const URL_FORMS = [
  /^https:\/\/[^\s@/]+(@[^\s/]+)?\/\S+$/,
  // Neither the user nor the host may start with `-`: ssh would read `-oProxyCommand=…` as an option.
  /^ssh:\/\/(?:(?!-)[^\s@/]+@)?(?!-)[^\s@/]+(?:\/\S*)?$/,
  /^file:\/\/\/\S*$/,
  /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s:]\S*$/,
  /^\/\S*$/,
];
/** `scheme://user:secret@`: a URL that carries a password or token. */
const CREDENTIALS_IN_URL = /^[a-z+]+:\/\/[^/@\s]*:[^/@\s]*@/i;
/** Branch, tag or sha: git's ref characters, never an option (`-`) and never `..`. */
const REF_PATTERN = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/+-]{1,200}$/;

export const repositorySchema = z
  .object({
    url: z
      .string()
      .max(2000)
      .refine(
        (url) => ![...url].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127) && URL_FORMS.some((form) => form.test(url)),
        'must be a git URL (https://, ssh://, git@host:path, file:///) or an absolute local path',
      )
      // A password or token in the URL would be stored with the pipeline's input, shown by the API
      // and written in clone errors: the workers' own git credentials are the place for it.
      .refine(
        (url) => !CREDENTIALS_IN_URL.test(url),
        'must not carry credentials (user:secret@): give the workers git credentials instead',
      ),
    ref: z.string().regex(REF_PATTERN, 'must be a branch, tag or commit sha (letters, digits, . _ / + -; not starting with -)').optional(),
  })
  .strict();

export type RepositorySpec = z.infer<typeof repositorySchema>;

/**
 * The problems of `input.repository` (none when it is absent or valid), with fields named from
 * `input`. With `allow` (WORKSPACE_REPOSITORY_ALLOW) a well-formed URL it does not allow is one too;
 * without it only the form is checked (a template file's example, which nothing clones).
 */
export function repositoryProblems(input: JsonObject, allow?: readonly string[]): ErrorDetail[] {
  if (input.repository === undefined) return [];
  const parsed = repositorySchema.safeParse(input.repository);
  if (!parsed.success) return zodIssuesToDetails(parsed.error, ['input', 'repository']);
  const refusal = allow && repositoryRefusal(parsed.data.url, allow);
  return refusal ? [{ field: 'input.repository.url', code: 'repository_not_allowed', message: refusal }] : [];
}

/** The repository a pipeline input names, or undefined (an input that fails the schema names none). */
export function repositoryOf(input: JsonObject): RepositorySpec | undefined {
  const parsed = repositorySchema.safeParse(input.repository);
  return parsed.success ? parsed.data : undefined;
}
