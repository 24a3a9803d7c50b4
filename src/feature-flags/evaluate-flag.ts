import { crc32 } from 'node:zlib';
import type { FeatureFlag, FeatureFlagGate } from '../db/schema/feature-flags.ts';
import type { FlagActor } from './feature-flags.ts';
import { definitionOf } from './flag-definitions.ts';

export interface StoredFlag {
  flag: FeatureFlag;
  gates: FeatureFlagGate[];
}

/** Flipper's actor id (`User:3`), so percentages match what GitLab computes for the same actor. */
function flipperIds(actor: FlagActor): string[] {
  return [
    actor.userId === undefined ? undefined : `User:${actor.userId}`,
    actor.projectId === undefined ? undefined : `Project:${actor.projectId}`,
    actor.groupId === undefined ? undefined : `Group:${actor.groupId}`,
  ].filter((id): id is string => id !== undefined);
}

/**
 * Decides a flag for an actor. No row: the definition's default (ops flags on, unknown flags off).
 * A row: on when its boolean gate is on, or an actor gate names the actor, or the actor falls in the
 * percentage of actors (CRC32 of name + actor id, as Flipper does, so it is stable), or the dice
 * fall in the percentage of time.
 */
export function evaluateFlag(
  name: string,
  stored: StoredFlag | undefined,
  actor: FlagActor = {},
  random: () => number = Math.random,
  defaultEnabled = false,
): boolean {
  if (!stored) return definitionOf(name)?.defaultEnabled ?? defaultEnabled;
  if (stored.flag.enabled) return true;
  for (const gate of stored.gates) {
    if (gate.gate === 'actor') {
      if (gate.actorType === 'User' && gate.actorId === actor.userId) return true;
      if (gate.actorType === 'Group' && gate.actorId === actor.groupId) return true;
      if (gate.actorType === 'Project' && gate.actorId === actor.projectId) return true;
    } else if (gate.gate === 'percentage_of_actors' && gate.percentage !== null) {
      for (const id of flipperIds(actor)) {
        // Flipper: crc32("#{feature}#{flipper_id}") % (100 * 1_000) < percentage * 1_000.
        if (crc32(`${name}${id}`) % 100_000 < gate.percentage * 1_000) return true;
      }
    } else if (gate.gate === 'percentage_of_time' && gate.percentage !== null) {
      if (random() * 100 < gate.percentage) return true;
    }
  }
  return false;
}
