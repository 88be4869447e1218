// Which repositories a deployment clones (WORKSPACE_REPOSITORY_ALLOW): URL prefixes a pipeline's
// `input.repository.url` must start with. One rule, used by the API at submission and by the
// worker before a workspace is cloned or reused, so the two can only differ by their lists.

/** The single entry that allows any repository URL. */
export const ANY_REPOSITORY = '*';

/** The variable's name, as messages print it. */
const VARIABLE = 'WORKSPACE_REPOSITORY_ALLOW';

/**
 * Spellings that would make the URL git fetches differ from the text a prefix was compared with:
 * a `.` or `..` segment (`https://github.com/acme/../evil`, `git@host:acme/..`), an empty segment
 * (`acme//x`, which some servers fold), percent-encoding (`%2e%2e`, `%2f`) and backslashes (a
 * separator to some servers). A repository URL never needs them, so they are refused, not rewritten.
 */
const DOT_SEGMENT = /(^|[/:])\.{1,2}($|[/:])/;
/** `scheme://` (`file://` of `file:///srv` too), before which `//` is the URL's own. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const ENCODED_OR_BACKSLASH = /[%\\]/;
/** scp-like `user@host:` or `host:` (no scheme), whose `:` ends the host. */
const SCP_HOST = /^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:$/;

/** Why a URL (or an allow-list entry) is spelled in a way a prefix cannot be trusted on, or undefined. */
export function ambiguousSpelling(url: string): string | undefined {
  if (DOT_SEGMENT.test(url)) return 'has a `.` or `..` path segment';
  if (url.replace(SCHEME, '').includes('//')) return 'has an empty path segment (`//`)';
  if (ENCODED_OR_BACKSLASH.test(url)) return 'has percent-encoding or a backslash';
  return undefined;
}

/** Problems of the list itself (for the config schema): `*` alone, entries spelled plainly. */
export function repositoryAllowListProblem(entries: readonly string[]): string | undefined {
  if (entries.includes(ANY_REPOSITORY) && entries.length > 1) return '`*` allows any repository: list it alone or not at all';
  for (const entry of entries) {
    if (entry === ANY_REPOSITORY) continue;
    if (/\s/.test(entry)) return `entry "${entry}" has whitespace`;
    const why = ambiguousSpelling(entry);
    if (why) return `entry "${entry}" ${why}`;
  }
  return undefined;
}

/**
 * True when `url` starts with `entry` at a boundary: the entry ends in `/` (or is an scp-like
 * `host:`), or the URL is the entry itself or goes on with `/`. So `https://github.com/acme`
 * allows `https://github.com/acme/app` but never `https://github.com/acme-evil/app` or
 * `https://github.com/acme@evil.example/`.
 */
function startsAtBoundary(url: string, entry: string): boolean {
  if (!url.startsWith(entry)) return false;
  if (url.length === entry.length || entry.endsWith('/') || SCP_HOST.test(entry)) return true;
  return url[entry.length] === '/';
}

/**
 * Why WORKSPACE_REPOSITORY_ALLOW (`allow`) refuses cloning `url`, or undefined when it allows it.
 * Compared on the URL as given (case included: `https://GitHub.com/` is not `https://github.com/`),
 * after refusing the spellings of ambiguousSpelling, and an `@` past the listed prefix, which could
 * turn what the list meant as a path into a user and host (`https://github.com@evil.example/`).
 * `['*']` allows every URL; an empty list refuses every one.
 */
export function repositoryRefusal(url: string, allow: readonly string[]): string | undefined {
  if (allow.includes(ANY_REPOSITORY)) return undefined;
  const ask = `ask the operator to list its prefix in ${VARIABLE}`;
  if (allow.length === 0) return `repository ${url} is not allowed: ${VARIABLE} is empty, so no repository is cloned; ${ask}`;
  const why = ambiguousSpelling(url);
  if (why) return `repository ${url} ${why}, which ${VARIABLE} prefixes cannot be checked on; give the plain URL`;
  const allowed = allow.some((entry) => startsAtBoundary(url, entry) && !url.slice(entry.length).includes('@'));
  if (allowed) return undefined;
  return `repository ${url} does not start with any prefix of ${VARIABLE} (allowed: ${allow.join(', ')}); ${ask}`;
}

/**
 * What a production process says at boot about its list, or undefined: an empty list (the
 * default) refuses every `input.repository`, which an operator should see once; `*` lets any
 * submitter have the workers clone and build anything they can reach.
 */
export function repositoryAllowNotice(allow: readonly string[]): { level: 'info' | 'warn'; message: string } | undefined {
  if (allow.length === 0)
    return {
      level: 'info',
      message: `${VARIABLE} is empty: pipelines naming an input.repository are refused until it lists the repositories this deployment builds`,
    };
  if (allow.includes(ANY_REPOSITORY))
    return {
      level: 'warn',
      message: `${VARIABLE} is \`*\`: submitters may have the workers clone and build any repository, local paths on the worker host included`,
    };
  return undefined;
}
