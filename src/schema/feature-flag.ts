import type { GraphQLContext } from '../context.ts';
import { featureFlagGates, featureFlags } from '../db/schema/feature-flags.ts';
import { AppError } from '../errors.ts';
import { changeFeatureFlag, type FlagChange, FlagChangeError } from '../feature-flags/flag-admin.ts';
import { parseGlobalIdOf } from '../gid.ts';
import { builder } from './builder.ts';
import { requireAdmin } from './require-user.ts';

interface FeatureFlagShape {
  name: string;
  type: string;
  enabled: boolean;
  gates: string[];
}

const FeatureFlagRef = builder.objectRef<FeatureFlagShape>('FeatureFlag').implement({
  description: 'A feature flag stored in the database, with its gates.',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false }),
    type: t.exposeString('type', { nullable: false, description: '`ops` or `development`.' }),
    enabled: t.exposeBoolean('enabled', { nullable: false, description: 'The boolean gate.' }),
    gates: t.exposeStringList('gates', {
      nullable: false,
      description: 'Actor gates (`Group:1`) and percentages (`percentage_of_actors=25%`).',
    }),
  }),
});

async function listFlags(context: GraphQLContext): Promise<FeatureFlagShape[]> {
  const db = context.services.database.db;
  const [flags, gates] = await Promise.all([db.select().from(featureFlags), db.select().from(featureFlagGates)]);
  return flags.map((flag) => ({
    name: flag.name,
    type: flag.type,
    enabled: flag.enabled,
    gates: gates
      .filter((gate) => gate.flagName === flag.name)
      .map((gate) =>
        gate.gate === 'actor' ? `${gate.actorType}:${gate.actorId}` : `${gate.gate}=${gate.percentage}%`,
      ),
  }));
}

builder.queryField('featureFlags', (t) =>
  t.field({
    type: [FeatureFlagRef],
    nullable: false,
    description: 'Feature flags that have a row (others use their default). Administrators only.',
    resolve: async (_root, _arguments, context) => {
      requireAdmin(context);
      return listFlags(context);
    },
  }),
);

const FeatureFlagChangeEnum = builder.enumType('FeatureFlagChange', {
  values: {
    ENABLE: { value: 'enable', description: 'Turn on (for the actor, when one is given).' },
    DISABLE: { value: 'disable', description: 'Turn off (remove the actor gate, when an actor is given).' },
    PERCENTAGE_OF_ACTORS: { value: 'percentage-of-actors' },
    PERCENTAGE_OF_TIME: { value: 'percentage-of-time' },
    REMOVE: { value: 'remove', description: 'Delete the flag: it falls back to its default.' },
  } as const,
});

builder.mutationField('featureFlagChange', (t) =>
  t.field({
    type: FeatureFlagRef,
    nullable: true,
    description: 'Changes a feature flag; every process applies it within a second. Administrators only.',
    args: {
      name: t.arg.string({ required: true }),
      change: t.arg({ type: FeatureFlagChangeEnum, required: true }),
      actor: t.arg.string({ description: 'A user, group or project global id, for actor gates.' }),
      percentage: t.arg.int({ description: 'For percentage changes: 0 to 100.' }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      let change: FlagChange;
      if (args.change === 'percentage-of-actors' || args.change === 'percentage-of-time') {
        if (args.percentage == null)
          throw new AppError('BAD_USER_INPUT', 'percentage is required for a percentage change');
        change = { kind: args.change, percentage: args.percentage };
      } else if (args.actor && (args.change === 'enable' || args.change === 'disable')) {
        const actor = parseGlobalIdOf(args.actor, ['User', 'Group', 'Project']);
        change = {
          kind: args.change === 'enable' ? 'enable-actor' : 'disable-actor',
          actorType: actor.type,
          actorId: actor.id,
        };
      } else {
        change = { kind: args.change } as FlagChange;
      }
      try {
        await changeFeatureFlag(
          context.services.database.db,
          context.services.redis,
          context.services.config.REDIS_KEY_PREFIX,
          args.name,
          change,
        );
      } catch (error) {
        if (error instanceof FlagChangeError) throw new AppError('BAD_USER_INPUT', error.message, { cause: error });
        throw error;
      }
      await context.services.featureFlags.reload();
      return (await listFlags(context)).find((flag) => flag.name === args.name) ?? null;
    },
  }),
);
