// `npm ci` warns EBADENGINE when a locked package's `engines.node` excludes the running Node. This
// checks every locked package against the oldest Node the project supports (package.json's
// `engines`, which .nvmrc and the Dockerfile must satisfy too), so an upgrade that raises the
// floor fails here, not as a warning nobody reads.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import semver from 'semver';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { engines?: Record<string, string> | string[]; dev?: boolean; optional?: boolean }>;
};

describe('Node version consistency', () => {
  const floor = semver.minVersion(pkg.engines.node)!.version;

  it('every locked package accepts the oldest Node that package.json allows', () => {
    // Arrange
    const refusing = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .flatMap(([path, entry]) => {
        const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
        return range && !semver.satisfies(floor, range, { includePrerelease: true }) ? [`${path} wants node ${range}`] : [];
      });

    // Assert
    expect(refusing, `these would print EBADENGINE on Node ${floor}`).to.deep.equal([]);
  });

  it('.nvmrc and the Dockerfile name a Node that package.json allows', () => {
    // Arrange
    const nvmrc = readFileSync('.nvmrc', 'utf8').trim();
    const dockerNode = /FROM node:(\d+\.\d+(?:\.\d+)?)/.exec(readFileSync('Dockerfile', 'utf8'))?.[1];

    // Assert
    expect(semver.satisfies(semver.coerce(nvmrc)!, pkg.engines.node), `.nvmrc ${nvmrc}`).to.equal(true);
    expect(dockerNode, 'Dockerfile FROM node:<version>').to.be.a('string');
    expect(semver.satisfies(semver.coerce(dockerNode)!, pkg.engines.node), `Dockerfile node:${dockerNode}`).to.equal(true);
  });
});
