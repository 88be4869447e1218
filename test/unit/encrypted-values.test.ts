// Unit tests for encrypted configuration values (src/config/encrypted-values.ts) and the master
// keys they open under (src/config/master-key.ts): pure functions, keys and files passed in.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError } from '../../src/config/config-error.js';
import {
  decryptEnvironment,
  encryptValue,
  encryptedEntriesOf,
  isEncrypted,
  openValue,
  rotateEnvText,
} from '../../src/config/encrypted-values.js';
import { generateMasterKey, keyIdOf, masterKeysFrom, parseMasterKey } from '../../src/config/master-key.js';

const newKey = (): Buffer => randomBytes(32);

/** Runs `fn` expecting a ConfigError and returns it. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

/** Flips one bit of the byte at `index` of a base64url segment. */
function flipByte(segment: string, index: number): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64url');
}

describe('encrypted configuration values (unit)', () => {
  describe('encryptValue / decryptEnvironment', () => {
    it('round trip: the value names its key id and decrypts to the plaintext; other variables pass through', () => {
      const key = newKey();
      const value = encryptValue('WEBHOOK_SECRET', 'tëst-sécret with spaces', key);
      expect(value).to.match(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/);
      expect(value.split(':')[2]).to.equal(keyIdOf(key));
      expect(isEncrypted(value)).to.equal(true);
      const env = decryptEnvironment({ WEBHOOK_SECRET: value, PORT: '3000', EMPTY: undefined }, { current: key });
      expect(env).to.deep.equal({ WEBHOOK_SECRET: 'tëst-sécret with spaces', PORT: '3000', EMPTY: undefined });
    });

    it('a fresh IV each time: the same plaintext encrypts to different values', () => {
      const key = newKey();
      expect(encryptValue('A_SECRET', 'same', key)).to.not.equal(encryptValue('A_SECRET', 'same', key));
    });

    it('tamper: a changed ciphertext, tag or IV is refused naming the variable, without the value in the message', () => {
      const key = newKey();
      const value = encryptValue('ADMIN_TOKEN', 'the-admin-token-value', key);
      const [, , keyId, iv, sealed] = value.split(':') as [string, string, string, string, string];
      const sealedLength = Buffer.from(sealed, 'base64url').length;
      const tampered = [
        `enc:v1:${keyId}:${iv}:${flipByte(sealed, 0)}`, // ciphertext
        `enc:v1:${keyId}:${iv}:${flipByte(sealed, sealedLength - 1)}`, // tag
        `enc:v1:${keyId}:${flipByte(iv, 0)}:${sealed}`, // IV
      ];
      for (const bad of tampered) {
        const error = configErrorOf(() => decryptEnvironment({ ADMIN_TOKEN: bad }, { current: key }));
        expect(error.code).to.equal('CONFIG_DECRYPT_FAILED');
        expect(error.details.map((d) => d.field)).to.deep.equal(['ADMIN_TOKEN']);
        expect(error.details[0]!.message).to.match(/does not decrypt under key [0-9a-f]{8}: the value was altered/);
        expect(error.message).to.include('ADMIN_TOKEN').and.not.include(sealed).and.not.include('the-admin-token-value');
      }
    });

    it('a value moved to another variable is refused (the name is authenticated)', () => {
      const key = newKey();
      const value = encryptValue('WEBHOOK_SECRET', 'webhook-secret', key);
      const error = configErrorOf(() => decryptEnvironment({ ADMIN_TOKEN: value }, { current: key }));
      expect(error.problems).to.have.length(1);
      expect(error.problems[0]).to.match(/^ADMIN_TOKEN: does not decrypt under key .*encrypted for another variable/);
    });

    it('wrong key: the message names both key ids; no key at all says which variable to set', () => {
      const key = newKey();
      const other = newKey();
      const value = encryptValue('ADMIN_TOKEN', 'x', key);
      const wrong = configErrorOf(() => decryptEnvironment({ ADMIN_TOKEN: value }, { current: other }));
      expect(wrong.problems).to.deep.equal([
        `ADMIN_TOKEN: encrypted under key ${keyIdOf(key)}, but the master key given is ${keyIdOf(other)} (CONFIG_MASTER_KEY)`,
      ]);
      const none = configErrorOf(() => decryptEnvironment({ ADMIN_TOKEN: value }, {}));
      expect(none.problems[0]).to.match(/^ADMIN_TOKEN: encrypted under key [0-9a-f]{8}, but no master key is set \(CONFIG_MASTER_KEY/);
    });

    it('previous key: values under either key decrypt during a rotation, and openValue says which', () => {
      const oldKey = newKey();
      const newKey_ = newKey();
      const env = {
        OLD_ONE: encryptValue('OLD_ONE', 'from the old key', oldKey),
        NEW_ONE: encryptValue('NEW_ONE', 'from the new key', newKey_),
      };
      const keys = { current: newKey_, previous: oldKey };
      expect(decryptEnvironment(env, keys)).to.deep.equal({ OLD_ONE: 'from the old key', NEW_ONE: 'from the new key' });
      expect(openValue('OLD_ONE', env.OLD_ONE, keys)).to.include({ ok: true, key: 'previous', keyId: keyIdOf(oldKey) });
      expect(openValue('NEW_ONE', env.NEW_ONE, keys)).to.include({ ok: true, key: 'current', keyId: keyIdOf(newKey_) });
    });

    it('malformed: every broken value is reported at once, each naming its variable and the expected form', () => {
      const key = newKey();
      const good = encryptValue('GOOD', 'fine', key);
      const [, , keyId, iv, sealed] = good.split(':') as [string, string, string, string, string];
      const env = {
        GOOD: good,
        TOO_FEW: `enc:v1:${keyId}:${iv}`,
        BAD_KEY_ID: `enc:v1:XYZ:${iv}:${sealed}`,
        SHORT_IV: `enc:v1:${keyId}:AAAA:${sealed}`,
        NOT_BASE64: `enc:v1:${keyId}:${iv}:not*base64`,
        NO_TAG: `enc:v1:${keyId}:${iv}:AAAA`,
        FUTURE: `enc:v2:${keyId}:${iv}:${sealed}`,
      };
      const error = configErrorOf(() => decryptEnvironment(env, { current: key }));
      expect(error.details.map((d) => d.field)).to.deep.equal(['TOO_FEW', 'BAD_KEY_ID', 'SHORT_IV', 'NOT_BASE64', 'NO_TAG', 'FUTURE']);
      for (const detail of error.details.slice(0, 5))
        expect(detail.message, detail.field).to.match(/^malformed encrypted value: .*enc:v1:<key id>/);
      expect(error.details[5]!.message).to.match(/^unsupported encrypted value version "v2"/);
      expect(error.message).to.match(/^Cannot decrypt 6 configuration values:\n {2}- TOO_FEW: /);
    });

    it('isEncrypted: anything starting enc: (so a typo is reported, not used as a secret), nothing else', () => {
      expect(['enc:v1:a:b:c', 'enc:V1:x', 'enc:'].map(isEncrypted)).to.deep.equal([true, true, true]);
      expect(['', 'plain', 'xenc:v1:', 'ENC:v1:'].map(isEncrypted)).to.deep.equal([false, false, false, false]);
    });

    it('encryptValue refuses a key that is not 32 bytes and a name that is no variable name', () => {
      expect(() => encryptValue('A', 'x', randomBytes(16))).to.throw(RangeError, /32 bytes/);
      expect(() => encryptValue('A-B', 'x', newKey())).to.throw(RangeError, /not an environment variable name/);
    });
  });

  describe('masterKeysFrom', () => {
    const hex = newKey().toString('hex');

    it('reads a key as hex or base64 (standard, url-safe, unpadded), ignoring surrounding whitespace', () => {
      const key = newKey();
      const forms = [key.toString('hex'), key.toString('base64'), key.toString('base64url'), ` ${key.toString('base64')}\n`];
      for (const form of forms) expect(masterKeysFrom({ CONFIG_MASTER_KEY: form }).current?.equals(key), form).to.equal(true);
      expect(parseMasterKey(generateMasterKey())).to.have.length(32);
      expect(masterKeysFrom({})).to.deep.equal({});
      expect(masterKeysFrom({ CONFIG_MASTER_KEY: '' })).to.deep.equal({});
    });

    it('refuses malformed keys naming each variable, never echoing the value', () => {
      const error = configErrorOf(() =>
        masterKeysFrom({ CONFIG_MASTER_KEY: 'short-secret-text', CONFIG_MASTER_KEY_PREVIOUS: randomBytes(16).toString('base64') }),
      );
      expect(error.code).to.equal('CONFIG_INVALID');
      expect(error.details.map((d) => d.field)).to.deep.equal(['CONFIG_MASTER_KEY', 'CONFIG_MASTER_KEY_PREVIOUS']);
      expect(error.message).to.include('not a master key').and.not.include('short-secret-text');
    });

    it('reads CONFIG_MASTER_KEY_FILE, trimming the trailing newline; a loose mode is a warning', () => {
      const key = newKey();
      const files: Record<string, string> = { '/run/secrets/master': `${key.toString('base64')}\n` };
      const read = (path: string) => {
        if (!(path in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        return files[path]!;
      };
      const tight = masterKeysFrom({ CONFIG_MASTER_KEY_FILE: '/run/secrets/master' }, read, () => 0o400);
      expect(tight.current?.equals(key)).to.equal(true);
      expect(tight.warnings).to.equal(undefined);
      const loose = masterKeysFrom({ CONFIG_MASTER_KEY_FILE: '/run/secrets/master' }, read, () => 0o644);
      expect(loose.current?.equals(key)).to.equal(true);
      expect(loose.warnings).to.have.length(1);
      expect(loose.warnings![0]).to.match(/^CONFIG_MASTER_KEY_FILE \/run\/secrets\/master has mode 0644: group or others may read/);
      const missing = configErrorOf(() => masterKeysFrom({ CONFIG_MASTER_KEY_FILE: '/nope' }, read, () => 0o600));
      expect(missing.problems).to.deep.equal(['CONFIG_MASTER_KEY_FILE: cannot read /nope: ENOENT']);
    });

    it('refuses both CONFIG_MASTER_KEY and its file, and a previous key without a current one', () => {
      const both = configErrorOf(() => masterKeysFrom({ CONFIG_MASTER_KEY: hex, CONFIG_MASTER_KEY_FILE: '/x' }, () => hex));
      expect(both.problems).to.deep.equal(['CONFIG_MASTER_KEY_FILE: set either CONFIG_MASTER_KEY or CONFIG_MASTER_KEY_FILE, not both']);
      const orphan = configErrorOf(() => masterKeysFrom({ CONFIG_MASTER_KEY_PREVIOUS: hex }));
      expect(orphan.problems[0]).to.match(/^CONFIG_MASTER_KEY_PREVIOUS: set only during a rotation/);
      expect(masterKeysFrom({ CONFIG_MASTER_KEY: hex, CONFIG_MASTER_KEY_PREVIOUS: hex }).warnings).to.deep.equal([
        'CONFIG_MASTER_KEY_PREVIOUS is the same key as CONFIG_MASTER_KEY: remove it',
      ]);
    });
  });

  describe('env file text', () => {
    it('rotateEnvText re-encrypts values under the previous key, keeps current ones, comments, quotes and other lines', () => {
      const oldKey = newKey();
      const current = newKey();
      const text = [
        '# secrets',
        `ADMIN_TOKEN=${encryptValue('ADMIN_TOKEN', 'admin', oldKey)}`,
        `export WEBHOOK_SECRET="${encryptValue('WEBHOOK_SECRET', 'hook', oldKey)}"  # quoted`,
        `JWT_SECRET=${encryptValue('JWT_SECRET', 'jwt', current)}`,
        'PORT=3000',
        '',
      ].join('\n');
      expect(encryptedEntriesOf(text).map((e) => e.name)).to.deep.equal(['ADMIN_TOKEN', 'WEBHOOK_SECRET', 'JWT_SECRET']);
      const rotation = rotateEnvText(text, { current, previous: oldKey });
      expect([rotation.rotated, rotation.unchanged, rotation.failures]).to.deep.equal([
        ['ADMIN_TOKEN', 'WEBHOOK_SECRET'],
        ['JWT_SECRET'],
        [],
      ]);
      const lines = rotation.text.split('\n');
      expect(lines[0]).to.equal('# secrets');
      expect(lines[2]).to.match(/^export WEBHOOK_SECRET="enc:v1:[^"]+" {2}# quoted$/);
      expect(lines.slice(3)).to.deep.equal(text.split('\n').slice(3));
      const entries = Object.fromEntries(encryptedEntriesOf(rotation.text).map((e) => [e.name, e.value]));
      expect(decryptEnvironment(entries, { current })).to.deep.equal({ ADMIN_TOKEN: 'admin', WEBHOOK_SECRET: 'hook', JWT_SECRET: 'jwt' });
    });

    it('rotateEnvText reports values no key opens and leaves them as they were', () => {
      const current = newKey();
      const stranger = encryptValue('ADMIN_TOKEN', 'admin', newKey());
      const rotation = rotateEnvText(`ADMIN_TOKEN=${stranger}\n`, { current });
      expect(rotation.failures.map((f) => f.field)).to.deep.equal(['ADMIN_TOKEN']);
      expect(rotation.text).to.equal(`ADMIN_TOKEN=${stranger}\n`);
    });
  });
});
