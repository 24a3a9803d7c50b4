import { LRUCache } from 'lru-cache';
import type { Database } from '../db/client.ts';
import { type Authentication, authenticateToken, digestToken } from './tokens.ts';

export interface TokenAuthenticator {
  authenticate(token: string): Promise<Authentication>;
}

/**
 * Authenticates tokens with a short-lived cache keyed by the token's digest (never the token), so
 * the hot path of a mutation or subscription makes no database query. A revoked token or blocked
 * user stops working within `ttlMs`; expiry dates are still checked on every use.
 */
export function createTokenAuthenticator(db: Database, options: { ttlMs: number; max?: number }): TokenAuthenticator {
  const cache = new LRUCache<string, { authentication: Authentication; expiresAt: string | null }>({
    max: options.max ?? 10_000,
    ttl: Math.max(1, options.ttlMs),
  });
  return {
    async authenticate(token) {
      const digest = digestToken(token);
      const cached = options.ttlMs > 0 ? cache.get(digest) : undefined;
      if (cached && (cached.expiresAt === null || cached.expiresAt > new Date().toISOString().slice(0, 10))) {
        return cached.authentication;
      }
      const authentication = await authenticateToken(db, token);
      if (options.ttlMs > 0) cache.set(digest, { authentication, expiresAt: authentication.expiresAt });
      return authentication;
    },
  };
}
