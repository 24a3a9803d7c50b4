import type { Redis } from 'ioredis';
import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
} from './circuit-breaker.ts';
import { createRedisCircuitStore, type RedisCircuitStore } from './redis-circuit-store.ts';

export interface CircuitBreakerRegistryOptions extends Omit<CircuitBreakerOptions, 'store'> {
  /** Shares breaker state across processes; process-local breakers without it. */
  redis?: Redis;
  /** Prefix for the Redis keys and channel (`REDIS_KEY_PREFIX`; `test-<uuid>:` in tests). */
  keyPrefix?: string;
}

export interface CircuitBreakerRegistry {
  /** The breaker for a name, created on first use; the fallback provider uses `<providerId>:<model>`. */
  get(name: string): CircuitBreaker;
  /** Every breaker's current state, e.g. for a Prometheus gauge. */
  snapshot(): { name: string; state: CircuitState }[];
  /** Disposes the breakers and closes the registry's Redis subscriber connection. */
  close(): Promise<void>;
}

/** One breaker per provider+model, all sharing one Redis store (one subscriber connection per registry). */
export function createCircuitBreakerRegistry(options: CircuitBreakerRegistryOptions = {}): CircuitBreakerRegistry {
  const { redis, keyPrefix, ...breakerOptions } = options;
  const store: RedisCircuitStore | undefined = redis ? createRedisCircuitStore({ redis, keyPrefix }) : undefined;
  const breakers = new Map<string, CircuitBreaker>();
  return {
    get(name) {
      let breaker = breakers.get(name);
      if (!breaker) {
        breaker = createCircuitBreaker(name, { ...breakerOptions, ...(store ? { store } : {}) });
        breakers.set(name, breaker);
      }
      return breaker;
    },
    snapshot: () => [...breakers.values()].map((breaker) => ({ name: breaker.name, state: breaker.state() })),
    async close() {
      for (const breaker of breakers.values()) breaker.dispose();
      breakers.clear();
      await store?.close();
    },
  };
}
