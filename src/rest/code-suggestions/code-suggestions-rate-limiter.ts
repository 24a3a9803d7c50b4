import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../../logger.ts';

/** GitLab's message for every exceeded application rate limit. */
export const rateLimitedMessage = 'This endpoint has been requested too many times. Try again later.';

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until a request would be allowed again (for `Retry-After`), when refused. */
  retryAfterSeconds: number;
}

export interface CodeSuggestionsRateLimiter {
  consume(key: string): Promise<RateLimitDecision>;
}

export interface CodeSuggestionsRateLimiterOptions {
  redis: Redis;
  /** REDIS_KEY_PREFIX, so test runs and environments sharing a Redis never share counters. */
  keyPrefix: string;
  /** Requests per window: GitLab's `code_suggestions_api_rate_limit`, 60. */
  points: number;
  logger: Logger;
}

/** GitLab's window for `code_suggestions_api_endpoint`: one minute. */
const windowSeconds = 60;

/**
 * GitLab's `code_suggestions_api_endpoint` limit, per caller, in Redis: rate-limiter-flexible increments and
 * expires the counter in one Lua script, so replicas share one atomic count. When Redis fails the request is
 * let through (and logged): the limit protects the model budget, and refusing every suggestion during a Redis
 * blip would hurt more than a minute of unmetered traffic.
 */
export function createCodeSuggestionsRateLimiter(
  options: CodeSuggestionsRateLimiterOptions,
): CodeSuggestionsRateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${options.keyPrefix}rate_limit:code_suggestions_api_endpoint`,
    points: options.points,
    duration: windowSeconds,
  });
  return {
    async consume(key) {
      try {
        await limiter.consume(key, 1);
        return { allowed: true, retryAfterSeconds: 0 };
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
        }
        options.logger.warn({ err: rejection }, 'code suggestions rate limit unavailable; request allowed');
        return { allowed: true, retryAfterSeconds: 0 };
      }
    },
  };
}
