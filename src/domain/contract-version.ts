// Agent contract versions (N-2 compatibility): which versions of a stage's input, and of an
// upstream output, an agent accepts, and the upcasters that carry an older one up to its own.
import { UnrecoverableStageError } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';

/** How far back an agent reaches: its own version N, and N-1 and N-2 through upcasters. */
export const MAX_UPCAST_STEPS = 2;

/** Maps a value written under contract version k to version k+1. */
export type InputUpcaster = (input: JsonObject) => JsonObject;
export type OutputUpcaster = (output: JsonValue) => JsonValue;

/** What an agent declares (`defineAgent({ contract })`); absent: version 1, no upcasters. */
export interface AgentContractSpec {
  /** The contract version its input and output schemas speak (a positive integer). */
  version: number;
  /** By the version they read: `{ [N-1]: v(N-1) → vN, [N-2]: v(N-2) → v(N-1) }`. */
  upcasters?: Readonly<Record<number, InputUpcaster>>;
  /** The same for its output, applied when a downstream stage receives an older stored output. */
  outputUpcasters?: Readonly<Record<number, OutputUpcaster>>;
}

/** A checked contract: its version, the range it accepts, and the upcasting it does. */
export interface AgentContract {
  readonly version: number;
  /** `[min, max]`: the input versions it runs (max = version; min = version minus its upcasters). */
  readonly accepts: readonly [number, number];
  /** The output versions a consumer can get upcast to this agent's `version`. */
  readonly acceptsOutputs: readonly [number, number];
  /** The input of an envelope written under `from`, as version `version`; refuses what it cannot reach. */
  upcastInput(input: JsonObject, from: number): JsonObject;
  /** An output this agent stored under `from`, as version `version`; `what` names it in a refusal. */
  upcastOutput(output: JsonValue, from: number, what: string): JsonValue;
}

const isVersion = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;

/** The lowest version reached by consecutive upcasters below `version` (never more than two). */
function oldestReachable(agentType: string, version: number, upcasters: Readonly<Record<number, unknown>>, kind: string): number {
  const keys = Object.keys(upcasters).map(Number);
  for (const key of keys) {
    if (!isVersion(key) || key >= version || key < version - MAX_UPCAST_STEPS) {
      throw new Error(
        `agent "${agentType}": ${kind} for v${key} is out of range; a contract v${version} upcasts from v${Math.max(1, version - MAX_UPCAST_STEPS)}–v${version - 1} only`,
      );
    }
  }
  let min = version;
  while (min - 1 >= 1 && version - (min - 1) <= MAX_UPCAST_STEPS && typeof upcasters[min - 1] === 'function') min -= 1;
  // A gap (an upcaster for N-2 without one for N-1) would be unreachable: a definition error.
  if (keys.some((k) => k < min)) throw new Error(`agent "${agentType}": ${kind} must be consecutive, from v${version - 1} down`);
  return min;
}

/** "upcasts v2–v3", "upcasts v3", "upcasts none". */
function upcastPhrase([min, max]: readonly [number, number]): string {
  if (min === max) return 'upcasts none';
  return min === max - 1 ? `upcasts v${min}` : `upcasts v${min}–v${max - 1}`;
}

/** The refusal naming both versions: "envelope contract v1, agent validation speaks v4 and upcasts v2–v3". */
export function unsupportedContract(
  what: string,
  from: number,
  agentType: string,
  range: readonly [number, number],
): UnrecoverableStageError {
  return new UnrecoverableStageError(
    'CONTRACT_VERSION_UNSUPPORTED',
    `${what} contract v${from}, agent ${agentType} speaks v${range[1]} and ${upcastPhrase(range)}`,
  );
}

function chain<T>(value: T, from: number, to: number, upcasters: Readonly<Record<number, (v: T) => T>>): T {
  let current = value;
  for (let k = from; k < to; k += 1) current = upcasters[k]!(current);
  return current;
}

/** Checks an agent's declaration once, at `defineAgent`: a bad one is a programmer error. */
export function defineContract(agentType: string, spec: AgentContractSpec = { version: 1 }): AgentContract {
  const { version, upcasters = {}, outputUpcasters = {} } = spec;
  if (!isVersion(version)) throw new Error(`agent "${agentType}": contract version must be a positive integer, got ${String(version)}`);
  const accepts = [oldestReachable(agentType, version, upcasters, 'upcaster'), version] as const;
  const acceptsOutputs = [oldestReachable(agentType, version, outputUpcasters, 'output upcaster'), version] as const;
  return {
    version,
    accepts,
    acceptsOutputs,
    upcastInput(input, from) {
      if (!isVersion(from) || from < accepts[0] || from > version) throw unsupportedContract('envelope', from, agentType, accepts);
      return chain(input, from, version, upcasters);
    },
    upcastOutput(output, from, what) {
      if (!isVersion(from) || from < acceptsOutputs[0] || from > version) throw unsupportedContract(what, from, agentType, acceptsOutputs);
      return chain(output, from, version, outputUpcasters);
    },
  };
}
