// The environment schema of one profile, built from the registry: each variable's schema with its
// profile default, then the rules that span several variables. Pure: parseEnvironment takes a
// plain record.
import { z } from 'zod';
import { redisHashTag } from '../domain/redis-cluster.js';
import { ConfigError, problemLines } from './config-error.js';
import { profileOf, type Profile } from './profile.js';
import { REGISTRY, VARIABLES, type Config } from './registry.js';
import { defaultFor } from './variable.js';

/** Rules across variables, each reported on the variable to fix. */
function crossFieldRules(schema: z.ZodType<Config>): z.ZodType<Config> {
  return schema
    .refine((c) => c.WEBHOOK_URLS.length === 0 || c.WEBHOOK_SECRET.length >= 16, {
      path: ['WEBHOOK_SECRET'],
      message: 'required (16 characters at least) when WEBHOOK_URLS is set',
    })
    .refine((c) => c.WEBHOOK_SECRET_PREVIOUS === '' || c.WEBHOOK_SECRET_PREVIOUS.length >= 16, {
      path: ['WEBHOOK_SECRET_PREVIOUS'],
      message: '16 characters at least when set',
    })
    .refine((c) => c.METRICS_TOKEN === '' || c.METRICS_TOKEN.length >= 32, {
      path: ['METRICS_TOKEN'],
      message: '32 characters at least when set',
    })
    .refine((c) => c.JWT_SECRET === '' || c.JWT_SECRET.length >= 32, {
      path: ['JWT_SECRET'],
      message: '32 characters at least when set (HMAC keys shorter than the hash are guessable)',
    })
    .refine((c) => c.JWT_SECRET === '' || c.JWT_JWKS_URL === '', {
      path: ['JWT_JWKS_URL'],
      message: 'set JWT_SECRET or JWT_JWKS_URL, not both',
    })
    .refine((c) => (c.JWT_SECRET === '' && c.JWT_JWKS_URL === '') || (c.JWT_ISSUER !== '' && c.JWT_AUDIENCE !== ''), {
      path: ['JWT_AUDIENCE'],
      message: 'JWT_ISSUER and JWT_AUDIENCE are required when JWT_SECRET or JWT_JWKS_URL is set',
    })
    .refine((c) => !c.JWT_ALGORITHMS.some((a) => a.toLowerCase() === 'none'), {
      path: ['JWT_ALGORITHMS'],
      message: '"none" is never accepted',
    })
    .refine((c) => c.REDIS_CLUSTER_NODES.length === 0 || redisHashTag(c.QUEUE_PREFIX) !== undefined, {
      path: ['QUEUE_PREFIX'],
      message:
        "must hold a Redis Cluster hash tag when REDIS_CLUSTER_NODES is set (braces around at least one character, e.g. {sdlc}): BullMQ's scripts touch several keys of a queue at once, and on a cluster they must share one slot",
    });
}

const schemas = new Map<Profile, z.ZodType<Config>>();

/** The schema of `profile`: every registry variable, defaulted for that profile (cached). */
export function envSchemaFor(profile: Profile): z.ZodType<Config> {
  let schema = schemas.get(profile);
  if (!schema) {
    const shape = Object.fromEntries(
      VARIABLES.map((spec) => {
        const fallback = defaultFor(spec, profile);
        // prefault: the default is raw text and goes through the variable's own parsing.
        return [spec.name, fallback === undefined ? spec.schema : spec.schema.prefault(fallback)];
      }),
    );
    schema = crossFieldRules(z.object(shape) as unknown as z.ZodType<Config>);
    schemas.set(profile, schema);
  }
  return schema;
}

/** Empty strings mean "unset", so `FOO=` in an env file falls back to the default; unknown names are ignored. */
export function cleanEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '' && Object.hasOwn(REGISTRY, entry[0]),
    ),
  );
}

/** Parses the environment for the profile NODE_ENV names; throws ConfigError (CONFIG_INVALID) naming every bad variable. */
export function parseEnvironment(env: Readonly<Record<string, string | undefined>>): Config {
  const cleaned = cleanEnvironment(env);
  const result = envSchemaFor(profileOf(cleaned)).safeParse(cleaned);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(env)', message: issue.message }));
  throw new ConfigError('CONFIG_INVALID', problemLines('Invalid configuration:', details), { details });
}
