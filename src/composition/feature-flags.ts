// The process's flag source from its configuration: an Unleash server when UNLEASH_URL is set,
// FLAGS_FILE until its first successful fetch (after that an outage keeps the server's last
// flags), or FLAGS_FILE alone.
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../domain/logger.js';
import { createUnleashFlags, type UnleashFlags } from '../infra/flags/unleash-flags.js';

/** How long a start waits for the first flag set before going on with the fallbacks. */
const FIRST_LOAD_WAIT_MS = 5000;

export function createFeatureFlagsFromConfig(config: Config, logger: Logger, instanceId = `${hostname()}:${process.pid}`): UnleashFlags {
  return createUnleashFlags({
    url: config.UNLEASH_URL,
    apiToken: config.UNLEASH_API_TOKEN || undefined,
    appName: config.UNLEASH_APP_NAME,
    environment: config.UNLEASH_ENVIRONMENT,
    instanceId,
    refreshIntervalMs: config.UNLEASH_REFRESH_MS,
    bootstrapFile: config.FLAGS_FILE,
    logger,
  });
}

/** Resolves when the flags are loaded, or after FIRST_LOAD_WAIT_MS with a warning (fallbacks serve meanwhile). */
export async function waitForFlags(flags: UnleashFlags, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), FIRST_LOAD_WAIT_MS)));
  const outcome = await Promise.race([flags.ready().then(() => 'ready' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout')
    logger.warn('feature flags not loaded yet: serving their fallbacks until they are', { waitedMs: FIRST_LOAD_WAIT_MS });
}
