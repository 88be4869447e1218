// Retry delays of agent jobs: a BullMQ custom backoff strategy that grows exponentially (or
// stays fixed), is capped at RETRY_BACKOFF_CAP_MS, and spreads retries with jitter.
import type { BackoffOptions, BackoffStrategy, MinimalJob } from 'bullmq';
import type { RetryPolicy } from '../../domain/pipeline-definition.js';

/** Job backoff type of a stage whose retry policy is `exponential`. */
export const CAPPED_EXPONENTIAL = 'capped-exponential';
/** Job backoff type of a stage whose retry policy is `fixed`. */
export const CAPPED_FIXED = 'capped-fixed';

export interface BackoffInput {
  /** 1 for the delay before the second attempt (BullMQ passes attemptsMade + 1). */
  attempt: number;
  type: 'exponential' | 'fixed';
  /** Base delay in ms: the first delay, which exponential doubles per attempt. */
  baseMs: number;
  /** No delay exceeds this (jitter only shortens a delay). */
  capMs: number;
  /** Share of the delay that is randomised, 0–1: the delay lies in [d × (1 − jitter), d]. */
  jitter: number;
  /** Uniform in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * The delay before the next attempt: `min(cap, base × 2^(attempt − 1))` (or `min(cap, base)`
 * for fixed), of which a `jitter` share is randomised downwards, so retries of many jobs that
 * failed together spread out instead of arriving at once. Whole milliseconds, never negative.
 */
export function computeBackoffDelay({ attempt, type, baseMs, capMs, jitter, random = Math.random }: BackoffInput): number {
  const exponent = type === 'exponential' ? Math.max(0, attempt - 1) : 0;
  // 2^exponent overflows to Infinity for huge attempts; min() with the cap keeps it finite.
  const full = Math.max(0, Math.min(capMs, baseMs * 2 ** exponent));
  const share = Math.min(1, Math.max(0, jitter));
  return Math.floor(full * (1 - share) + random() * full * share);
}

/** The job option for a stage's retry policy: one of our capped types, read back by the strategy below. */
export function backoffOption(retry: RetryPolicy['backoff']): BackoffOptions {
  return { type: retry.type === 'fixed' ? CAPPED_FIXED : CAPPED_EXPONENTIAL, delay: retry.delayMs, jitter: retry.jitter };
}

/**
 * The Worker `settings.backoffStrategy` of agent queues: computes the delay of the capped
 * types from the job's `backoff` option. Any other type (a job added before this strategy
 * existed) gets the exponential shape, also capped.
 */
export function createBackoffStrategy(capMs: number, random: () => number = Math.random): BackoffStrategy {
  return function cappedBackoff(attemptsMade: number, type?: string, _error?: Error, job?: MinimalJob): number {
    const backoff = job?.opts.backoff;
    const options =
      typeof backoff === 'object' ? backoff : { type: type ?? CAPPED_EXPONENTIAL, delay: typeof backoff === 'number' ? backoff : 1000 };
    return computeBackoffDelay({
      attempt: attemptsMade,
      type: type === CAPPED_FIXED ? 'fixed' : 'exponential',
      baseMs: options.delay ?? 1000,
      capMs,
      jitter: options.jitter ?? 0,
      random,
    });
  };
}
