// The master key that opens encrypted values (`enc:v1:…`); see docs/configuration.md, "Encrypted values".
import { text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const masterKeyVariables = defineGroup('Encrypted values', {
  CONFIG_MASTER_KEY: {
    ...text(),
    secret: true,
    default: '',
    description:
      'The master key (32 random bytes, base64 or hex) that decrypts `enc:v1:…` values at boot. Prefer `CONFIG_MASTER_KEY_FILE` where the platform has secret files.',
  },
  CONFIG_MASTER_KEY_FILE: {
    ...text(),
    default: '',
    description:
      'A file holding the master key (Docker or Kubernetes secrets; a trailing newline is ignored), instead of `CONFIG_MASTER_KEY`.',
  },
  CONFIG_MASTER_KEY_PREVIOUS: {
    ...text(),
    secret: true,
    default: '',
    description: 'The previous master key, during a rotation only: values under either key decrypt. Remove it once every value is rotated.',
  },
});
