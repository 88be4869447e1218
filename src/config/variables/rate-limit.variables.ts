// Rate limits, counted in Redis and shared by every API replica (docs/security.md#rate-limits).
import { int } from '../field-types.js';
import { defineGroup } from '../variable.js';

const NOT_OFF = { min: 1, why: 'production keeps every rate limit on (0 turns it off)' };

export const rateLimitVariables = defineGroup('Rate limits', {
  RATE_LIMIT_WINDOW_MS: {
    ...int(1000, 86_400_000),
    default: 60_000,
    description:
      'The window of every rate limit below. Fixed windows counted in Redis, so every API replica spends the same budgets. See [security.md](security.md#rate-limits).',
  },
  RATE_LIMIT_PER_ADDRESS: {
    ...int(0),
    default: 1200,
    production: NOT_OFF,
    description:
      "Requests per window from one source address, counted before authentication, whatever the credential (0: off). `/health` and `/health/ready` never count. Behind a load balancer, set `TRUST_PROXY`, or every client shares the balancer's address and budget. 429 `RATE_LIMITED`.",
  },
  RATE_LIMIT_PER_IDENTITY: {
    ...int(0),
    default: 600,
    production: NOT_OFF,
    description:
      "Requests per window from one authenticated identity (an API key's name, `jwt:<sub>`, the `METRICS_TOKEN` scraper), from any address (0: off). 429 `RATE_LIMITED`.",
  },
  RATE_LIMIT_SUBMIT: {
    ...int(0),
    default: 30,
    production: NOT_OFF,
    description:
      '`POST /api/v1/pipelines` per window from one identity, on top of the per-identity budget; spent only by callers allowed to submit (0: off). 429 `SUBMIT_RATE_LIMITED`, nothing recorded.',
  },
  RATE_LIMIT_AUTH_FAILURES: {
    ...int(0),
    default: 20,
    production: { min: 1, max: 1000, why: 'production keeps the guessing brake on (0 turns it off) and tight' },
    description:
      'Failed authentications (401) per window from one source address; once spent, the address is refused before its credential is checked, valid keys included, until the window ends (0: off). 429 `AUTH_RATE_LIMITED`.',
  },
});
