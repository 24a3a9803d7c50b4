import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from '../redis.ts';

/** GitLab's message when a rate limit is hit (reference §6.5). */
export const rateLimitedMessage = 'This endpoint has been requested too many times. Try again later.';

export interface AiActionRateLimiter {
  /** Counts one request; false when the user is over the limit (nothing else is written then). */
  consume(userId: number): Promise<boolean>;
}

/**
 * GitLab's `ai_action` limit: `points` requests per user per `durationSeconds` (default 160 per 8 hours),
 * counted atomically in Redis so every API replica shares one budget. `points` 0 disables the limit.
 */
export function createAiActionRateLimiter(options: {
  redis: Redis;
  prefix: string;
  points: number;
  durationSeconds: number;
}): AiActionRateLimiter {
  if (options.points <= 0) return { consume: async () => true };
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${options.prefix}rate_limit:ai_action`,
    points: options.points,
    duration: options.durationSeconds,
  });
  return {
    async consume(userId) {
      try {
        await limiter.consume(String(userId));
        return true;
      } catch (error) {
        if (error instanceof RateLimiterRes) return false;
        throw error;
      }
    },
  };
}
