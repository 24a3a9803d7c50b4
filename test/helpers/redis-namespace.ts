import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of its own per test file, so runs never collide on the shared Redis; `cleanup` deletes its keys. */
export function createRedisNamespace() {
  const prefix = `test-${randomUUID()}:`;
  return {
    prefix,
    async countKeys(pattern = '*'): Promise<number> {
      const redis = new Redis(testRedisUrl);
      try {
        let total = 0;
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 1000);
          cursor = next;
          total += keys.length;
        } while (cursor !== '0');
        return total;
      } finally {
        redis.disconnect();
      }
    },
    async cleanup(): Promise<void> {
      const redis = new Redis(testRedisUrl);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
