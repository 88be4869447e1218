// Feature flags: an Unleash server, or its export in a bootstrap file (docs/feature-flags.md).
import { httpUrl, int, optional, text } from '../field-types.js';
import { defineGroup } from '../variable.js';

export const flagVariables = defineGroup('Feature flags', {
  UNLEASH_URL: {
    ...optional(httpUrl()),
    url: true,
    description:
      "Unleash server's API base (e.g. `http://unleash:4242/api`) the feature flags come from; unset: `FLAGS_FILE` alone. See [feature-flags.md](feature-flags.md).",
  },
  UNLEASH_API_TOKEN: {
    ...text(),
    secret: true,
    default: '',
    description:
      'A client API token of that Unleash server (sent as its Authorization header). Production requires it when `UNLEASH_URL` is set.',
  },
  UNLEASH_APP_NAME: {
    ...text(1),
    default: 'agentic-sdlc',
    description: 'The appName this platform reports to Unleash (strategies may constrain on it).',
  },
  UNLEASH_ENVIRONMENT: {
    ...text(1),
    default: 'default',
    description: 'The environment this platform evaluates flags in (a context field of Unleash strategies).',
  },
  UNLEASH_REFRESH_MS: {
    ...int(500, 3_600_000),
    default: 15_000,
    description: 'How often the flags are fetched from the Unleash server, in milliseconds.',
  },
  FLAGS_FILE: {
    ...text(1),
    default: 'flags/flags.json',
    description:
      "Flags in Unleash's client-features format (an export of the server): served without a server, and with one until its first successful fetch (an outage after that keeps the server's last flags).",
  },
});
