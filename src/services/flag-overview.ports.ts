// What the flag source tells about itself (infra/flags implements it over unleash-client): where
// the flags come from now, how fresh they are, and every flag it knows with its definition.
// Read by GET /api/v1/flags through the flag overview (flag-overview.service.ts).

/** `server`: UNLEASH_URL is set (FLAGS_FILE serves until the first fetch); `bootstrap`: FLAGS_FILE alone. */
export type FlagSourceMode = 'server' | 'bootstrap';

/** Where a flag's state comes from: fetched from the server, read from FLAGS_FILE, or the code's fallback (defined nowhere). */
export type FlagOrigin = 'server' | 'bootstrap' | 'fallback';

export interface FlagVariantDefinition {
  name: string;
  /** Out of 1000 across the variants of one list. */
  weight: number;
}

export interface FlagStrategyDefinition {
  /** `default`, `flexibleRollout`, `userWithId`, … */
  name: string;
  /** As Unleash sends them (`rollout`, `stickiness`, `groupId`, …), values as strings. */
  parameters: Record<string, string>;
  /** How many constraints narrow it (their content is not shown: it may name users). */
  constraints: number;
  /** Strategy variants (Unleash 5+ puts A/B variants on the strategy). */
  variants: FlagVariantDefinition[];
}

export interface FlagDefinitionState {
  name: string;
  /** The flag's on/off toggle in its environment (strategies decide for whom when on). */
  enabled: boolean;
  description: string | null;
  source: FlagOrigin;
  strategies: FlagStrategyDefinition[];
  /** Feature-level variants (the pre-5 place; strategy variants are under each strategy). */
  variants: FlagVariantDefinition[];
}

export interface FlagSourceSnapshot {
  mode: FlagSourceMode;
  /** The Unleash API base with any credential masked; null in bootstrap mode. */
  url: string | null;
  appName: string;
  environment: string;
  /** How often the server is polled; null in bootstrap mode. */
  refreshIntervalMs: number | null;
  bootstrap: {
    /** FLAGS_FILE, or null when the flags were given inline. */
    file: string | null;
    /** Whether it was read and held at least one flag. */
    loaded: boolean;
    flags: number;
    /** Why it could not be used (missing, not JSON, not the client-features format). */
    error: string | null;
  };
  /** True once a fetch from the server succeeded (never in bootstrap mode). */
  synchronized: boolean;
  /** The last successful fetch (changed or unchanged). */
  lastFetchAt: Date | null;
  /** The last error of the source (a failed refresh, an invalid definition), with its time. */
  lastError: { message: string; at: Date } | null;
  /** True while the last refresh failed: the flags served are the last known ones (or FLAGS_FILE's). */
  stale: boolean;
  /** Every flag the source holds, then the platform switches it does not define (source `fallback`). */
  flags: FlagDefinitionState[];
}

export interface FlagSnapshotSource {
  snapshot(): FlagSourceSnapshot;
}
