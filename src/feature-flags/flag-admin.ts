import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { featureFlagGates, featureFlags } from '../db/schema/feature-flags.ts';
import type { Redis } from '../redis.ts';
import { flagInvalidationChannel } from './create-feature-flags.ts';
import { definitionOf } from './flag-definitions.ts';

export type FlagChange =
  | { kind: 'enable' }
  | { kind: 'disable' }
  | { kind: 'enable-actor'; actorType: 'User' | 'Group' | 'Project'; actorId: number }
  | { kind: 'disable-actor'; actorType: 'User' | 'Group' | 'Project'; actorId: number }
  | { kind: 'percentage-of-actors'; percentage: number }
  | { kind: 'percentage-of-time'; percentage: number }
  | { kind: 'remove' };

const flagNamePattern = /^[a-z][a-z0-9_]{1,99}$/;

/** A change that is wrong in itself (bad name, bad percentage); nothing was written. */
export class FlagChangeError extends Error {
  override name = 'FlagChangeError';
}

/**
 * Changes a flag in Postgres, then tells every process to reload (Redis pub/sub), so a flip takes
 * effect everywhere within a second. `disable` clears every gate, as Flipper's `disable` does.
 */
export async function changeFeatureFlag(
  db: Database,
  redis: Redis,
  prefix: string,
  name: string,
  change: FlagChange,
): Promise<void> {
  if (!flagNamePattern.test(name)) throw new FlagChangeError(`Invalid feature flag name ${JSON.stringify(name)}`);
  if (
    'percentage' in change &&
    (!Number.isInteger(change.percentage) || change.percentage < 0 || change.percentage > 100)
  ) {
    throw new FlagChangeError('A percentage must be an integer from 0 to 100');
  }
  await db.transaction(async (transaction) => {
    if (change.kind === 'remove') {
      await transaction.delete(featureFlags).where(eq(featureFlags.name, name));
      return;
    }
    const type = definitionOf(name)?.type ?? 'development';
    await transaction
      .insert(featureFlags)
      .values({ name, type, enabled: false })
      .onConflictDoNothing({ target: featureFlags.name });
    switch (change.kind) {
      case 'enable':
        await transaction
          .update(featureFlags)
          .set({ enabled: true, updatedAt: new Date() })
          .where(eq(featureFlags.name, name));
        break;
      case 'disable':
        await transaction
          .update(featureFlags)
          .set({ enabled: false, updatedAt: new Date() })
          .where(eq(featureFlags.name, name));
        await transaction.delete(featureFlagGates).where(eq(featureFlagGates.flagName, name));
        break;
      case 'enable-actor':
        await transaction
          .delete(featureFlagGates)
          .where(
            and(
              eq(featureFlagGates.flagName, name),
              eq(featureFlagGates.actorType, change.actorType),
              eq(featureFlagGates.actorId, change.actorId),
            ),
          );
        await transaction
          .insert(featureFlagGates)
          .values({ flagName: name, gate: 'actor', actorType: change.actorType, actorId: change.actorId });
        break;
      case 'disable-actor':
        await transaction
          .delete(featureFlagGates)
          .where(
            and(
              eq(featureFlagGates.flagName, name),
              eq(featureFlagGates.actorType, change.actorType),
              eq(featureFlagGates.actorId, change.actorId),
            ),
          );
        break;
      case 'percentage-of-actors':
      case 'percentage-of-time': {
        const gate = change.kind === 'percentage-of-actors' ? 'percentage_of_actors' : 'percentage_of_time';
        await transaction
          .delete(featureFlagGates)
          .where(and(eq(featureFlagGates.flagName, name), eq(featureFlagGates.gate, gate)));
        await transaction.insert(featureFlagGates).values({ flagName: name, gate, percentage: change.percentage });
        break;
      }
    }
  });
  await redis.publish(flagInvalidationChannel(prefix), name);
}
