// `sdlc keys …` runs the key service in its own process, straight in Postgres. When the service
// refuses (a bad role, a taken name, an unknown id), the CLI prints the refusal as it prints an
// API error: `error: CODE: message`, then one `  field: message` line per detail, exit 1. A
// configuration error (`config print`), whose message lists its variables, keeps its lines.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

/** Runs `sdlc keys <args>` against the test schema; answers its exit code, stdout and stderr. */
async function keys(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL! };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('cli config: an invalid configuration keeps its own lines', function () {
  this.timeout(60_000);

  it('config print with PORT=notanumber: CONFIG_INVALID, then one line per bad variable, no literal \\n, exit 1', async () => {
    // Arrange
    const env = { ...process.env, PORT: 'notanumber' };

    // Act
    const result = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'config', 'print'], { env }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );

    // Assert
    expect(result.code).to.equal(1);
    expect(result.stderr.trimEnd().split('\n')).to.deep.equal([
      'error: CONFIG_INVALID: Invalid configuration:',
      '  - PORT: Invalid input: expected number, received NaN',
    ]);
  });
});

describe('cli keys: refusals name the code and the field (integration)', function () {
  this.timeout(90_000);

  it('create with no platform role: VALIDATION_FAILED and a `roles:` line naming the roles, exit 1', async () => {
    // Act
    const result = await keys('create', '--name', unique('no-role'), '--role', 'bogus');

    // Assert
    expect(result.code).to.equal(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).to.equal('error: VALIDATION_FAILED: Invalid key request.');
    expect(lines[1]).to.match(/^ {2}roles: at least one of viewer, submitter, approver, operator, admin/);
    expect(result.stderr).not.to.match(/\bat .*\.ts:\d+/);
  });

  it('create with the name of an active key: API_KEY_NAME_TAKEN (the code the README names), exit 1', async () => {
    // Arrange
    const name = unique('taken');
    const first = await keys('create', '--name', name, '--role', 'viewer');

    // Act
    const second = await keys('create', '--name', name, '--role', 'viewer');

    // Assert
    expect(first.code, first.stderr).to.equal(0);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.match(new RegExp(`^error: API_KEY_NAME_TAKEN: An active key is named ${name}\\.\\n {2}name: `));
  });

  it('revoke of an unknown id: API_KEY_NOT_FOUND, exit 1', async () => {
    const result = await keys('revoke', '00000000-0000-4000-8000-000000000000');

    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal('error: API_KEY_NOT_FOUND: No key 00000000-0000-4000-8000-000000000000.\n');
  });

  it('a bad argument (an id that is not a UUID, a malformed --expires) is a usage error: exit 2, as docs/cli.md says', async () => {
    const badId = await keys('revoke', 'not-a-uuid');
    expect(badId.code).to.equal(2);
    expect(badId.stderr).to.contain("keys revoke <id>: the key's id (a UUID");
    const badExpiry = await keys('create', '--name', unique('expiry'), '--role', 'viewer', '--expires', 'soon');
    expect(badExpiry.code).to.equal(2);
    expect(badExpiry.stderr).to.contain('--expires');
  });
});
