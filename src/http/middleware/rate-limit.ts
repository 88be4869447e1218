// Rate limits with express-rate-limit, counted in a store every API replica shares (Redis, built
// by the composition): requests per source address before authentication, failed
// authentications per address (brute force), requests per identity after authentication, and
// pipeline submissions per identity. A refusal is our JSON 429 with the draft-8 `RateLimit` /
// `RateLimit-Policy` headers and `Retry-After`. While the store fails, requests pass unlimited
// (counted, and logged once per outage).
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type AugmentedRequest, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import { AuthenticationError, TooManyRequestsError, type CodeOf } from '../../domain/errors.js';
import type { Logger } from '../../domain/logger.js';
import { sendAppError } from './errors.js';

export type RateLimiterName = 'per-address' | 'auth-failures' | 'per-identity' | 'submit';

/** Requests allowed per window by each limiter; 0 turns that limiter off. */
export interface RateLimitBudgets {
  windowMs: number;
  perAddress: number;
  perIdentity: number;
  submit: number;
  authFailures: number;
}

export interface RateLimitOptions {
  budgets: RateLimitBudgets;
  /** A new store for each call: express-rate-limit refuses one store serving two limiters. */
  storeFor(name: RateLimiterName): Store;
  /** Paths answered without credentials (GET/HEAD): load balancers probe them, so never limited. */
  publicPaths: readonly string[];
  /** A request refused with 429. */
  onLimited(limiter: RateLimiterName): void;
  /** A request let through unchecked because the store failed. */
  onBypassed(limiter: RateLimiterName): void;
  logger: Logger;
}

/** The limiters createApp mounts; each is absent when its budget is 0. */
export interface RateLimiters {
  /** Right before authentication: every request by source address. */
  perAddress?: RequestHandler;
  /** Right before authentication: an address over its failed-authentication budget is refused before its credential is checked. */
  authFailureGuard?: RequestHandler;
  /** Right after authentication (an error handler): each 401 counts against its address. */
  authFailureCount?: ErrorRequestHandler;
  /** Right after authentication: every authenticated request by identity. */
  perIdentity?: RequestHandler;
  /** On `POST /api/v1/pipelines`, after its authorization: submissions by identity. */
  submit?: RequestHandler;
}

const VARIABLE: Record<RateLimiterName, string> = {
  'per-address': 'RATE_LIMIT_PER_ADDRESS',
  'auth-failures': 'RATE_LIMIT_AUTH_FAILURES',
  'per-identity': 'RATE_LIMIT_PER_IDENTITY',
  submit: 'RATE_LIMIT_SUBMIT',
};

const CODE: Record<RateLimiterName, CodeOf<'rate_limited'>> = {
  'per-address': 'RATE_LIMITED',
  'auth-failures': 'AUTH_RATE_LIMITED',
  'per-identity': 'RATE_LIMITED',
  submit: 'SUBMIT_RATE_LIMITED',
};

const WHAT: Record<RateLimiterName, string> = {
  'per-address': 'requests from this address',
  'auth-failures': 'failed authentications from this address',
  'per-identity': 'requests from this identity',
  submit: 'pipeline submissions from this identity',
};

/** The same key for the guard and the counter of failed authentications (an IPv6 client by its /56). */
const addressKey = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

const secondsUntil = (reset: Date | undefined, windowMs: number) =>
  Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));

function refusal(name: RateLimiterName, limit: number, windowMs: number, retryAfterSeconds: number): TooManyRequestsError {
  const unrecorded = name === 'submit' ? ' Nothing was recorded.' : '';
  return new TooManyRequestsError(
    CODE[name],
    `Rate limit: more than ${limit} ${WHAT[name]} in ${windowMs / 1000} s (${VARIABLE[name]}).${unrecorded} Retry after ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}

/** One warn line when the store starts failing, one info line when it answers again: not one per request. */
function outageLog(logger: Logger) {
  let down = false;
  return {
    failed(limiter: RateLimiterName, error: unknown) {
      if (down) return;
      down = true;
      logger.warn('rate limit store unreachable: requests pass without rate limits until it answers again', {
        limiter,
        error: error instanceof Error ? error.message : String(error),
      });
    },
    answered() {
      if (!down) return;
      down = false;
      logger.info('rate limit store answers again: rate limits apply');
    },
  };
}

/** A store that reports each failure (then rethrows it: express-rate-limit's passOnStoreError lets the request through). */
class ObservedStore implements Store {
  readonly prefix?: string;
  readonly localKeys = false;
  constructor(
    private readonly inner: Store,
    private readonly outcome: { failed(error: unknown): void; answered(): void },
  ) {
    // express-rate-limit tells limiters apart by prefix when it checks a request is counted once per key.
    this.prefix = inner.prefix;
  }
  init(options: Options) {
    return this.inner.init?.(options);
  }
  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.observe(async () => this.inner.get?.(key));
  }
  increment(key: string) {
    return this.observe(async () => this.inner.increment(key));
  }
  async decrement(key: string) {
    await this.inner.decrement(key);
  }
  async resetKey(key: string) {
    await this.inner.resetKey(key);
  }
  private async observe<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.outcome.answered();
      return result;
    } catch (error) {
      this.outcome.failed(error);
      throw error;
    }
  }
}

export function createRateLimiters(options: RateLimitOptions): RateLimiters {
  const { budgets, storeFor, onLimited, onBypassed, logger } = options;
  const { windowMs } = budgets;
  const outage = outageLog(logger);
  const publics = new Set(options.publicPaths);
  const isPublic = (req: Request) => (req.method === 'GET' || req.method === 'HEAD') && publics.has(req.path);
  // Store failures are counted and logged once per outage above; the library's own misuse warnings
  // (an X-Forwarded-For header while no proxy is trusted…) stay visible, at warn.
  const libraryLogger = {
    warn: (error: unknown, message?: string) => logger.warn(message ?? 'express-rate-limit', { error: String(error) }),
    error: (error: unknown, message?: string) => {
      const code = (error as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string' && code.startsWith('ERR_ERL_')) logger.warn(message ?? 'express-rate-limit', { error: String(error) });
      else logger.debug(message ?? 'express-rate-limit', { error: String(error) });
    },
  };

  const limiter = (name: RateLimiterName, limit: number, rest: Partial<Options>, countBypass = true) =>
    rateLimit({
      windowMs,
      limit,
      identifier: name,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      passOnStoreError: true,
      logger: libraryLogger,
      store: new ObservedStore(storeFor(name), {
        failed: (error) => {
          if (countBypass) onBypassed(name);
          outage.failed(name, error);
        },
        answered: () => outage.answered(),
      }),
      handler: (req: Request, res: Response) => {
        onLimited(name);
        res.removeHeader('WWW-Authenticate');
        sendAppError(req, res, refusal(name, limit, windowMs, secondsUntil((req as AugmentedRequest).rateLimit?.resetTime, windowMs)));
      },
      ...rest,
    });

  const limiters: RateLimiters = {};
  if (budgets.perAddress > 0) limiters.perAddress = limiter('per-address', budgets.perAddress, { skip: isPublic });
  if (budgets.perIdentity > 0) {
    limiters.perIdentity = limiter('per-identity', budgets.perIdentity, {
      skip: (req) => !req.identity,
      keyGenerator: (req) => req.identity!.id,
    });
  }
  if (budgets.submit > 0) limiters.submit = limiter('submit', budgets.submit, { keyGenerator: (req) => req.identity!.id });
  if (budgets.authFailures > 0) {
    const limit = budgets.authFailures;
    // Counts 401s only: run on the authentication error, not on every request (counting every
    // request and taking the successes back afterwards would hold a slot per open event stream).
    // While the store fails, the 401 still goes out: no request is let through, so no bypass is
    // counted here (the guard counts the requests it lets through unchecked).
    const counter = limiter('auth-failures', limit, { keyGenerator: addressKey }, false);
    limiters.authFailureCount = function countAuthFailure(error: unknown, req: Request, res: Response, next: NextFunction) {
      if (!(error instanceof AuthenticationError)) return next(error);
      void counter(req, res, () => next(error));
    };
    limiters.authFailureGuard = async function refuseAfterAuthFailures(req: Request, res: Response, next: NextFunction) {
      if (isPublic(req)) return next();
      let used: ClientRateLimitInfo | undefined;
      try {
        used = await counter.getKey(addressKey(req));
      } catch {
        onBypassed('auth-failures');
        return next();
      }
      if (!used || used.totalHits < limit) return next();
      const retryAfter = secondsUntil(used.resetTime, windowMs);
      // The draft-8 headers the library writes on its own refusals.
      res.append('RateLimit-Policy', `"auth-failures"; q=${limit}; w=${Math.ceil(windowMs / 1000)}`);
      res.append('RateLimit', `"auth-failures"; r=0; t=${retryAfter}`);
      onLimited('auth-failures');
      sendAppError(req, res, refusal('auth-failures', limit, windowMs, retryAfter));
    };
  }
  return limiters;
}
