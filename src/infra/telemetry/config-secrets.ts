// The configured secrets a process's logger masks by value wherever they appear in a line.
import { secretsToMask } from '../../config/masking.js';
import type { Config } from '../../config.js';

/**
 * Every variable the registry marks secret (the unset ones left out), and the passwords inside
 * the configured URLs of 8 characters or more. Shorter passwords are not listed: every URL in a
 * line loses its userinfo and query anyway, and a short password such as docker compose's
 * `postgres` would mask ordinary words.
 */
export function configSecrets(config: Partial<Config>): string[] {
  return secretsToMask(config);
}
