// The image the compose file runs in the production profile: the folders the production defaults
// name must exist and belong to the user the processes run as (it cannot create them under
// /var/lib), and the programs the workers run must be installed.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { REGISTRY } from '../../src/config/registry.js';
import { defaultFor } from '../../src/config/variable.js';

const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

/** The RUN instructions, continuation lines joined. */
const runs = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => line.startsWith('RUN '));

describe('Dockerfile (the production image)', () => {
  const user = /^USER (\S+)/m.exec(dockerfile)?.[1];

  it('creates every folder a production default names, owned by the USER the processes run as', () => {
    expect(user, 'USER').to.be.a('string');
    const folders = Object.entries(REGISTRY)
      .map(([name, spec]) => [name, defaultFor(spec, 'production')] as const)
      .filter((entry): entry is readonly [string, string] => /^\/var\//.test(entry[1] ?? ''));
    expect(folders.map(([name]) => name)).to.include.members(['WORKSPACE_ROOT', 'RELEASES_ROOT']);
    for (const [name, folder] of folders) {
      const made = runs.some((run) => /mkdir -p/.test(run) && run.split(/\s+/).includes(folder));
      const owned = runs.some((run) => new RegExp(`chown (-R )?${user}:${user}\\b`).test(run) && run.split(/\s+/).includes(folder));
      expect(made, `${name} (${folder}) made with mkdir -p`).to.equal(true);
      expect(owned, `${name} (${folder}) chowned to ${user}`).to.equal(true);
    }
  });

  it('installs git (workspace clones, the scaffold and integration agents) and ssh for git@host: URLs', () => {
    const installs = runs.filter((run) => /apt-get install/.test(run)).join(' ');
    expect(installs.split(/\s+/)).to.include.members(['git', 'openssh-client', 'ca-certificates']);
  });
});
