// `cli config print [--json]`: the effective configuration of this environment (real environment
// over ENV_FILE, encrypted values opened, defaults of the profile), each value with where it came
// from, secrets and URL passwords masked. In the production profile it also lists what the boot
// would refuse (Redis' eviction policy aside, which needs a connection).
import { loadConfiguration, type LoadedConfig } from '../config.js';
import { maskValue } from '../config/masking.js';
import { productionRefusals, type Refusal } from '../config/production-refusals.js';
import { GROUPS, VARIABLES } from '../config/registry.js';

export interface PrintedVariable {
  name: string;
  group: string;
  /** Masked when secret; URLs without their passwords. */
  value: unknown;
  source: LoadedConfig['sources'][string];
  secret: boolean;
}

export interface PrintedConfig {
  profile: LoadedConfig['profile'];
  envFile: LoadedConfig['envFile'];
  variables: PrintedVariable[];
  /** Production only: what the boot would refuse. */
  refusals?: Refusal[];
}

/** The printable (masked) form of a loaded configuration. */
export function printableConfig(loaded: LoadedConfig): PrintedConfig {
  const values = loaded.config as Record<string, unknown>;
  return {
    profile: loaded.profile,
    envFile: loaded.envFile,
    variables: VARIABLES.map((spec) => ({
      name: spec.name,
      group: spec.group,
      value: maskValue(spec, values[spec.name]),
      source: loaded.sources[spec.name] ?? 'default',
      secret: spec.secret,
    })),
    ...(loaded.profile === 'production' ? { refusals: productionRefusals(loaded.config) } : {}),
  };
}

function shown(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (value === '') return '(empty)';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  // JSON-valued variables (AGENT_LIMITS) print as the JSON they were given.
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** The text form: a header, then a block per group with one `NAME  value  (source)` line per variable. */
export function formatConfig(printed: PrintedConfig): string {
  const width = Math.max(...printed.variables.map((v) => v.name.length));
  const lines = [
    `profile: ${printed.profile}`,
    `env file: ${printed.envFile.path} (${printed.envFile.found ? 'read' : 'not found'})`,
    ...GROUPS.flatMap((group) => [
      '',
      `${group}:`,
      ...printed.variables.filter((v) => v.group === group).map((v) => `  ${v.name.padEnd(width)}  ${shown(v.value)}  (${v.source})`),
    ]),
  ];
  if (printed.refusals) {
    lines.push('', printed.refusals.length === 0 ? 'production refusals: none' : `production would refuse (${printed.refusals.length}):`);
    lines.push(...printed.refusals.map((r) => `  - ${r.field}: ${r.message}`));
  }
  return lines.join('\n');
}

/** `config print [--json]`. */
export function runConfigPrint(
  options: { json?: boolean },
  out: (text: string) => void = (text) => void process.stdout.write(`${text}\n`),
): void {
  const printed = printableConfig(loadConfiguration());
  out(options.json ? JSON.stringify(printed, null, 2) : formatConfig(printed));
}
