// What the registry says about one environment variable: its type (a zod schema over the raw
// string), default (one, or one per profile), description, whether it is a secret, and the
// bounds production holds it to. Declared once; the schema, the production checks, the masking
// and the generated docs all read it.
import type { z } from 'zod';
import type { Field } from './field-types.js';
import { PROFILES, type Profile } from './profile.js';

/** A default per profile, as the raw text a variable would hold. */
export type ProfileDefaults = Readonly<Record<Profile, string>>;

/** Limits production holds a number (or a size, in bytes) to; outside them the process refuses to start. */
export interface ProductionBounds {
  min?: number;
  max?: number;
  /** Why the bound, shown in the refusal and the docs. */
  why: string;
}

export interface VariableInput<S extends z.ZodType = z.ZodType> extends Field<S> {
  /**
   * The raw text used when the variable is unset or empty: one for every profile, or one per
   * profile. Absent: the variable stays unset (its schema must then be optional).
   */
  default?: string | number | ProfileDefaults;
  /** What the variable does, for the docs and the example file (markdown). */
  description: string;
  /** Masked wherever the configuration is printed or logged; held to the production rules for secrets. */
  secret?: boolean;
  /**
   * A URL that may hold a password (userinfo) or credential-like query parameters, masked when
   * printed; `'path'`: its path is a credential too (a Slack-style webhook URL), masked as well.
   */
  url?: boolean | 'path';
  /** Bounds production enforces on the parsed value (sizes in bytes). */
  production?: ProductionBounds;
  /** Also read from `process.env` by a library (the OpenTelemetry SDK): a value from the env file is copied there. */
  readByLibrary?: boolean;
  /** The value written to `.env.production.example` (default: the production default; secrets: a `change-me-…` placeholder). */
  example?: string;
}

export interface VariableSpec<S extends z.ZodType = z.ZodType> extends VariableInput<S> {
  name: string;
  group: string;
  secret: boolean;
  url: boolean | 'path';
}

/** The variable's default in `profile`, as raw text; undefined when it has none. */
export function defaultFor(spec: Pick<VariableInput, 'default'>, profile: Profile): string | undefined {
  const value = spec.default;
  if (value === undefined) return undefined;
  if (typeof value === 'object') return value[profile];
  return String(value);
}

/** True when the default differs between profiles. */
export function hasProfileDefaults(spec: Pick<VariableInput, 'default'>): boolean {
  return new Set(PROFILES.map((p) => defaultFor(spec, p))).size > 1;
}

/** Names and groups the variables of one group, keeping each one's schema type. */
export function defineGroup<const T extends Record<string, VariableInput>>(
  group: string,
  variables: T,
): { [K in keyof T]: VariableSpec<T[K]['schema']> } {
  return Object.fromEntries(
    Object.entries(variables).map(([name, input]) => [
      name,
      { ...input, name, group, secret: input.secret ?? false, url: input.url ?? false },
    ]),
  ) as { [K in keyof T]: VariableSpec<T[K]['schema']> };
}
