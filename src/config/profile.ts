// The three profiles (NODE_ENV) and how the one a process runs in is read: first, before any
// other variable, because the defaults of the others depend on it.

export const PROFILES = ['development', 'test', 'production'] as const;
export type Profile = (typeof PROFILES)[number];

/** The development profile is the default: a laptop with Redis and Postgres on 127.0.0.1. */
export const DEFAULT_PROFILE: Profile = 'development';

export function isProfile(value: unknown): value is Profile {
  return typeof value === 'string' && (PROFILES as readonly string[]).includes(value);
}

/**
 * The profile named by NODE_ENV (unset or empty: development). An unknown value falls back to
 * development here; the schema then reports NODE_ENV itself, with the other problems.
 */
export function profileOf(env: Readonly<Record<string, string | undefined>>): Profile {
  const value = env.NODE_ENV;
  return isProfile(value) ? value : DEFAULT_PROFILE;
}
