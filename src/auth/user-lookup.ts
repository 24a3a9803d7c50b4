import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/client.ts';
import { users } from '../db/schema/users.ts';
import type { AuthUser } from './tokens.ts';

export interface UserLookup {
  /** The user if they exist and are active; cached for `ttlMs` so jobs make no query for them. */
  findActive(userId: number): Promise<AuthUser | undefined>;
}

export function createUserLookup(db: Database, options: { ttlMs: number; max?: number }): UserLookup {
  const cache = new LRUCache<number, { user: AuthUser | null }>({
    max: options.max ?? 10_000,
    ttl: Math.max(1, options.ttlMs),
  });
  return {
    async findActive(userId) {
      const cached = options.ttlMs > 0 ? cache.get(userId) : undefined;
      if (cached) return cached.user ?? undefined;
      const [row] = await db
        .select({ id: users.id, username: users.username, admin: users.admin, state: users.state })
        .from(users)
        .where(eq(users.id, userId))
        .limit(1);
      const user = row && row.state === 'active' ? { id: row.id, username: row.username, admin: row.admin } : null;
      if (options.ttlMs > 0) cache.set(userId, { user });
      return user ?? undefined;
    },
  };
}
