import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { CircuitSnapshot, CircuitStore } from './circuit-breaker.ts';

export interface RedisCircuitStoreOptions {
  /** A normal (non-subscriber) connection; the store duplicates it once for pub/sub. */
  redis: Redis;
  /**
   * Prepended to every key and to the channel (e.g. `REDIS_KEY_PREFIX`, or `test-<uuid>:` in tests). Added by
   * us because ioredis' own `keyPrefix` option does not apply to pub/sub channels.
   */
  keyPrefix?: string;
  /** Lifetime of a breaker hash; refreshed on each write, so only breakers idle this long disappear. */
  ttlMs?: number;
}

export interface RedisCircuitStore extends CircuitStore {
  /** Unsubscribes and closes the duplicated subscriber connection (not the caller's connection). */
  close(): Promise<void>;
}

const snapshotSchema = z.object({
  state: z.enum(['open', 'closed']),
  openedAt: z.coerce.number(),
  origin: z.string(),
});
const messageSchema = snapshotSchema.extend({ name: z.string() });

/**
 * Breaker state in Redis: one hash per breaker (`<prefix>llm:circuit:<name>` with state, openedAt, origin),
 * written and published in one MULTI so a reader never sees a state without its broadcast. Every instance
 * subscribes to `<prefix>llm:circuit-events` and applies others' snapshots at once (well within a second); on
 * (re)connection of the subscriber it reloads the hashes, covering messages missed while disconnected. The
 * half-open probe is a `SET NX PX` lease, so one instance in the cluster probes at a time.
 */
export function createRedisCircuitStore(options: RedisCircuitStoreOptions): RedisCircuitStore {
  const { redis } = options;
  const prefix = options.keyPrefix ?? '';
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const channel = `${prefix}llm:circuit-events`;
  const hashKey = (name: string) => `${prefix}llm:circuit:${name}`;
  const probeKey = (name: string) => `${prefix}llm:circuit:${name}:probe`;
  const listeners = new Map<string, Set<(snapshot: CircuitSnapshot) => void>>();
  let subscriber: Redis | undefined;

  async function load(name: string): Promise<CircuitSnapshot | undefined> {
    const parsed = snapshotSchema.safeParse(await redis.hgetall(hashKey(name)));
    return parsed.success ? parsed.data : undefined;
  }

  function ensureSubscriber(): void {
    if (subscriber) return;
    subscriber = redis.duplicate();
    subscriber.on('message', (receivedOn: string, message: string) => {
      if (receivedOn !== channel) return;
      let json: unknown;
      try {
        json = JSON.parse(message);
      } catch {
        return;
      }
      const parsed = messageSchema.safeParse(json);
      if (!parsed.success) return;
      const { name, ...snapshot } = parsed.data;
      for (const listener of listeners.get(name) ?? []) listener(snapshot);
    });
    // After a reconnect, state changes published meanwhile were lost: reload every watched breaker.
    subscriber.on('ready', () => {
      for (const [name, set] of listeners) {
        void load(name)
          .then((snapshot) => {
            if (snapshot) for (const listener of set) listener(snapshot);
          })
          .catch(() => undefined);
      }
    });
    subscriber.subscribe(channel).catch(() => undefined);
  }

  return {
    load,
    async save(name, snapshot) {
      await redis
        .multi()
        .hset(hashKey(name), { state: snapshot.state, openedAt: String(snapshot.openedAt), origin: snapshot.origin })
        .pexpire(hashKey(name), ttlMs)
        .publish(channel, JSON.stringify({ name, ...snapshot }))
        .exec();
    },
    async acquireProbe(name, leaseMs) {
      return (await redis.set(probeKey(name), '1', 'PX', leaseMs, 'NX')) === 'OK';
    },
    async releaseProbe(name) {
      await redis.del(probeKey(name));
    },
    subscribe(name, listener) {
      ensureSubscriber();
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      const connection = subscriber;
      subscriber = undefined;
      if (connection) await connection.quit().catch(() => connection.disconnect());
    },
  };
}
