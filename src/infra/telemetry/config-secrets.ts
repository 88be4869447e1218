// The configured secrets a process's logger masks by value wherever they appear in a line.
import type { Config } from '../../config.js';

/**
 * METRICS_TOKEN, JWT_SECRET and WEBHOOK_SECRET (the unset ones left out). URL credentials are not
 * listed: every URL in a line loses its userinfo and query anyway, and a short password such as
 * docker compose's `postgres` would mask ordinary words.
 */
export function configSecrets(config: Pick<Config, 'METRICS_TOKEN' | 'JWT_SECRET' | 'WEBHOOK_SECRET'>): string[] {
  return [config.METRICS_TOKEN, config.JWT_SECRET, config.WEBHOOK_SECRET].filter((value) => value !== '');
}
