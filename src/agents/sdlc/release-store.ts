// The releases folder of one app under the configured releases root:
// `<root>/<app>/releases/<id>` holds each release, `<root>/<app>/current` is a symlink switched
// atomically (a new link under a temporary name renamed over it). Every path is checked to stay
// under the root, which comes from configuration, never from a stage's input.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readlink, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { UnrecoverableStageError } from '../../domain/errors.js';

/** What an app name may be: it becomes a folder name. */
export const APP_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface ReleaseStore {
  /** `<root>/<app>`. */
  readonly appDir: string;
  /** The release `current` points at, or null before the first release. */
  current(): Promise<string | null>;
  /** The absolute folder of a release. */
  pathOf(release: string): string;
  /** Copies `source` (without `.git`) into a new release folder; resolves with its id. */
  create(source: string, id: string): Promise<string>;
  /** Points `current` at `release`, atomically. */
  switchTo(release: string): Promise<void>;
  /** Deletes the oldest releases beyond `keep`, never one of `protect`. */
  prune(keep: number, protect: readonly (string | null)[]): Promise<string[]>;
}

function under(root: string, path: string): string {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new UnrecoverableStageError('RELEASE_PATH_ESCAPE', `"${path}" is not inside the releases root`);
  }
  return path;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Opens (creating as needed) the release folders of `app` under `releasesRoot`. */
export async function openReleaseStore(releasesRoot: string, app: string): Promise<ReleaseStore> {
  if (!APP_NAME.test(app) || app.includes('..')) {
    throw new UnrecoverableStageError('RELEASE_PATH_ESCAPE', `app name "${app}" must match ${APP_NAME}`);
  }
  await mkdir(releasesRoot, { recursive: true });
  const root = await realpath(releasesRoot);
  const appDir = under(root, resolve(root, app));
  const releasesDir = under(root, join(appDir, 'releases'));
  const currentLink = under(root, join(appDir, 'current'));
  await mkdir(releasesDir, { recursive: true });
  const pathOf = (release: string) => {
    const path = under(releasesDir, resolve(releasesDir, release));
    if (basename(path) !== release) throw new UnrecoverableStageError('RELEASE_PATH_ESCAPE', `"${release}" is not a release name`);
    return path;
  };

  return {
    appDir,
    pathOf,
    async current() {
      try {
        return basename(await readlink(currentLink));
      } catch {
        return null;
      }
    },
    async create(source, id) {
      let release = id;
      for (let n = 2; await exists(pathOf(release)); n += 1) release = `${id}-${n}`;
      const target = pathOf(release);
      await cp(source, target, {
        recursive: true,
        // Relative links (node_modules/.bin) stay relative, so they point inside the release.
        verbatimSymlinks: true,
        filter: (path) => relative(source, path) !== '.git',
      });
      return release;
    },
    async switchTo(release) {
      pathOf(release);
      const temporary = under(root, join(appDir, `.current-${randomBytes(6).toString('hex')}`));
      await symlink(join('releases', release), temporary);
      await rename(temporary, currentLink); // rename(2) replaces the old link in one step
    },
    async prune(keep, protect) {
      const releases = (await readdir(releasesDir)).sort();
      const doomed = releases.slice(0, Math.max(0, releases.length - keep)).filter((release) => !protect.includes(release));
      for (const release of doomed) await rm(pathOf(release), { recursive: true, force: true });
      return doomed;
    },
  };
}
