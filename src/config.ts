// The configuration of a process, read and validated once at boot: the real environment over the
// env file (ENV_FILE), encrypted values opened, then every variable of the registry parsed for the
// profile NODE_ENV names. A bad variable stops the process with a message naming it. The parts
// live in src/config/ (registry, schema, production refusals, env file, masking, docs); modules
// there import ConfigError from ./config/config-error.js, never this file, so nothing cycles.
import { decryptEnvironment } from './config/encrypted-values.js';
import { parseEnvironment } from './config/env-schema.js';
import { loadEnvironment, type LayeredEnvironment, type ValueSource } from './config/env-file.js';
import { masterKeysFrom } from './config/master-key.js';
import { profileOf, type Profile } from './config/profile.js';
import { VARIABLES, type Config } from './config/registry.js';

export { ConfigError } from './config/config-error.js';
export { splitList } from './config/field-types.js';
export { envSchemaFor } from './config/env-schema.js';
export type { Config } from './config/registry.js';

/** A configuration with where each value came from, and what the operator should know. */
export interface LoadedConfig {
  config: Config;
  profile: Profile;
  /** Per registry variable: the real environment, the env file, or the profile's default. */
  sources: Record<string, ValueSource | 'default'>;
  envFile: LayeredEnvironment['envFile'];
  /** Problems that do not stop the process (a master key file others may read). */
  warnings: string[];
}

/** Parses an environment record (no file, no decryption); throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  return parseEnvironment(env);
}

/**
 * Reads the env file under `real`, decrypts `enc:v1:` values with the master keys, and parses the
 * result; throws ConfigError (CONFIG_INVALID, or the decryption's code) naming every bad variable.
 */
export function loadConfiguration(real: Record<string, string | undefined> = process.env, cwd?: string): LoadedConfig {
  const layered = loadEnvironment(real, cwd);
  const keys = masterKeysFrom(layered.env);
  const env = decryptEnvironment(layered.env, keys, REGISTRY_NAMES);
  const config = parseEnvironment(env);
  // An empty value counts as unset, so it shows as the default it fell back to.
  const sources = Object.fromEntries(
    VARIABLES.map((spec) => [spec.name, env[spec.name] ? (layered.sources[spec.name] ?? 'env') : 'default'] as const),
  );
  return { config, profile: profileOf(env), sources, envFile: layered.envFile, warnings: keys.warnings ?? [] };
}

const REGISTRY_NAMES: ReadonlySet<string> = new Set(VARIABLES.map((spec) => spec.name));

let loaded: LoadedConfig | undefined;

/**
 * The process's configuration with its sources, loaded on first use. Variables a library reads
 * from `process.env` itself (the OpenTelemetry sampler) are copied there when they came from the
 * env file, so the file sets them too.
 */
export function loadedConfiguration(): LoadedConfig {
  if (!loaded) {
    loaded = loadConfiguration();
    const values = loaded.config as Record<string, unknown>;
    for (const spec of VARIABLES) {
      const value = values[spec.name];
      if (spec.readByLibrary && loaded.sources[spec.name] === 'env file' && value !== undefined) process.env[spec.name] ??= String(value);
    }
  }
  return loaded;
}

/** The process's configuration, loaded from the environment (and env file) on first use. */
export function loadConfig(): Config {
  return loadedConfiguration().config;
}
