// How many event streams (SSE) are open, per identity and in total, in this process: a stream
// takes a slot before its headers go out and gives it back when it ends, however it ends. The
// counts live in memory, so each API replica enforces the caps on its own streams.
import { TooManyRequestsError } from '../domain/errors.js';

/** Seconds a refused client is told to wait: long enough for a stream it dropped to be noticed. */
export const STREAM_QUOTA_RETRY_AFTER_SECONDS = 10;

export interface StreamQuotaLimits {
  /** Streams one identity may hold open (MAX_EVENT_STREAMS_PER_IDENTITY). */
  perIdentity: number;
  /** Streams this process holds open, all identities together (MAX_EVENT_STREAMS). */
  total: number;
}

export interface StreamQuota {
  /**
   * Takes a slot for `identityId`, or throws 429 STREAM_QUOTA_EXCEEDED naming the cap. The
   * returned function gives the slot back; calling it again does nothing.
   */
  acquire(identityId: string): () => void;
  /** Streams open now: in total, or for one identity. */
  open(identityId?: string): number;
}

export function createStreamQuota(limits: StreamQuotaLimits): StreamQuota {
  const byIdentity = new Map<string, number>();
  let total = 0;
  return {
    acquire(identityId) {
      const mine = byIdentity.get(identityId) ?? 0;
      if (mine >= limits.perIdentity) {
        throw new TooManyRequestsError(
          'STREAM_QUOTA_EXCEEDED',
          `This identity has ${mine} event streams open on this API replica; MAX_EVENT_STREAMS_PER_IDENTITY is ${limits.perIdentity}. Close one, or retry after ${STREAM_QUOTA_RETRY_AFTER_SECONDS} s.`,
          { retryAfterSeconds: STREAM_QUOTA_RETRY_AFTER_SECONDS },
        );
      }
      if (total >= limits.total) {
        throw new TooManyRequestsError(
          'STREAM_QUOTA_EXCEEDED',
          `This API replica has ${total} event streams open; MAX_EVENT_STREAMS is ${limits.total}. Retry after ${STREAM_QUOTA_RETRY_AFTER_SECONDS} s.`,
          { retryAfterSeconds: STREAM_QUOTA_RETRY_AFTER_SECONDS },
        );
      }
      byIdentity.set(identityId, mine + 1);
      total += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const left = (byIdentity.get(identityId) ?? 1) - 1;
        if (left > 0) byIdentity.set(identityId, left);
        else byIdentity.delete(identityId);
      };
    },
    open(identityId) {
      return identityId === undefined ? total : (byIdentity.get(identityId) ?? 0);
    },
  };
}
