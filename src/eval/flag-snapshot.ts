import type { Database } from '../db/client.ts';
import { featureFlagGates, featureFlags } from '../db/schema/feature-flags.ts';
import { evaluateFlag, type StoredFlag } from '../feature-flags/evaluate-flag.ts';
import type { FeatureFlags } from '../feature-flags/feature-flags.ts';

/**
 * The feature flags as they are when the run starts, evaluated exactly as the service does. A run is a
 * measurement: every case sees the same flags, and no Redis connection is needed to hear about changes.
 */
export async function loadFlagSnapshot(db: Database): Promise<FeatureFlags> {
  const [flags, gates] = await Promise.all([db.select().from(featureFlags), db.select().from(featureFlagGates)]);
  const stored = new Map<string, StoredFlag>(flags.map((flag) => [flag.name, { flag, gates: [] }]));
  for (const gate of gates) stored.get(gate.flagName)?.gates.push(gate);
  return {
    async isEnabled(name, actor, options) {
      return evaluateFlag(name, stored.get(name), actor, Math.random, options?.defaultEnabled ?? false);
    },
  };
}
