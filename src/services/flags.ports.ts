// The feature-flag port: what services and jobs ask of the flag source (infra/flags implements it
// over unleash-client). Evaluation is local and synchronous: the client keeps the flags in memory
// and refreshes them in the background, so asking on the hot path costs no I/O.
import type { FlagContext, FlagVariant } from '../domain/feature-flags.js';

export interface FeatureFlags {
  /** The flag's state for this context; `fallback` when the flag is not defined anywhere. */
  isEnabled(name: string, context: FlagContext, fallback: boolean): boolean;
  /** The variant this context falls in, or null when the flag is off, unknown or has no variants. */
  variant(name: string, context: FlagContext): FlagVariant | null;
  /** Called after every change of the flag set (a refresh that changed something, a bootstrap). */
  onChange(listener: () => void): () => void;
}
