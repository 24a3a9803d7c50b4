import type { Database } from '../db/client.ts';
import { featureFlagGates, featureFlags } from '../db/schema/feature-flags.ts';
import type { Logger } from '../logger.ts';
import { createRedis, type Redis } from '../redis.ts';
import { evaluateFlag, type StoredFlag } from './evaluate-flag.ts';
import type { FeatureFlags, FlagActor } from './feature-flags.ts';

export function flagInvalidationChannel(prefix: string): string {
  return `${prefix}feature_flags:invalidate`;
}

/**
 * Safety net behind the invalidation channel: a message lost while Redis reconnects is healed within
 * this time. The channel itself makes a flip visible everywhere within milliseconds.
 */
const refreshIntervalMs = 30_000;

export interface CachedFeatureFlags extends FeatureFlags {
  /** Reloads every flag now (after a write in this process, or when told by the channel). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * All flags and gates are held in memory (two queries per reload), so checking a flag makes no
 * query. A write anywhere publishes on the invalidation channel and every process reloads.
 */
export function createFeatureFlags(options: {
  db: Database;
  redisUrl: string;
  prefix: string;
  logger: Logger;
}): CachedFeatureFlags {
  let snapshot: Map<string, StoredFlag> | undefined;
  let loading: Promise<Map<string, StoredFlag>> | undefined;
  let subscriber: Redis | undefined;

  async function load(): Promise<Map<string, StoredFlag>> {
    const [flags, gates] = await Promise.all([
      options.db.select().from(featureFlags),
      options.db.select().from(featureFlagGates),
    ]);
    const next = new Map<string, StoredFlag>(flags.map((flag) => [flag.name, { flag, gates: [] }]));
    for (const gate of gates) next.get(gate.flagName)?.gates.push(gate);
    return next;
  }

  async function current(): Promise<Map<string, StoredFlag>> {
    if (snapshot) return snapshot;
    loading ??= load().finally(() => {
      loading = undefined;
    });
    snapshot = await loading;
    return snapshot;
  }

  async function reload(): Promise<void> {
    snapshot = await load();
  }

  function listen(): void {
    if (subscriber) return;
    subscriber = createRedis(options.redisUrl, 'blocking', 'feature-flags:subscribe');
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => void reload().catch(() => undefined));
    void subscriber.subscribe(flagInvalidationChannel(options.prefix));
    subscriber.on('message', () => {
      reload().catch((error: unknown) => options.logger.warn({ err: error }, 'feature flag reload failed'));
    });
  }

  const timer = setInterval(() => {
    if (snapshot) reload().catch(() => undefined);
  }, refreshIntervalMs);
  timer.unref();

  return {
    async isEnabled(name: string, actor?: FlagActor, flagOptions?: { defaultEnabled?: boolean }) {
      listen();
      return evaluateFlag(name, (await current()).get(name), actor, Math.random, flagOptions?.defaultEnabled ?? false);
    },
    reload,
    async close() {
      clearInterval(timer);
      subscriber?.disconnect();
    },
  };
}
