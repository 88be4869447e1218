// Rate limits off for every test run unless a test turns them on (test/integration/rate-limits*):
// the suites send hundreds of requests, and many 401s, from 127.0.0.1 with few identities.
export const RATE_LIMITS_OFF: Readonly<Record<string, string>> = {
  RATE_LIMIT_PER_ADDRESS: '0',
  RATE_LIMIT_PER_IDENTITY: '0',
  RATE_LIMIT_SUBMIT: '0',
  RATE_LIMIT_AUTH_FAILURES: '0',
};

/** For the API processes the tests spawn (they inherit process.env): only variables not set already. */
export function turnRateLimitsOffInEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(RATE_LIMITS_OFF)) env[name] ??= value;
}
