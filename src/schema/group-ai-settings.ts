import { and, eq } from 'drizzle-orm';
import { accessInvalidationChannel } from '../auth/access-directory.ts';
import { aiFeatureSettings } from '../db/schema/ai-feature-settings.ts';
import { groups } from '../db/schema/groups.ts';
import { accessLevels } from '../db/schema/members.ts';
import { AppError, resourceNotAvailableMessage } from '../errors.ts';
import { parseGlobalIdOf, toGlobalId } from '../gid.ts';
import { AiActionEnum } from './ai-completion-response.ts';
import { builder } from './builder.ts';
import { requireWriter } from './require-user.ts';

interface GroupAiSettingsShape {
  id: number;
  fullPath: string;
  experimentFeaturesEnabled: boolean;
  duoFeaturesEnabled: boolean;
  thirdPartyAiFeaturesEnabled: boolean;
}

const GroupAiSettingsRef = builder.objectRef<GroupAiSettingsShape>('GroupAiSettings').implement({
  description: "A group's AI settings; the root group's decide for everything below it.",
  fields: (t) => ({
    groupId: t.field({ type: 'NamespaceID', nullable: false, resolve: (group) => toGlobalId('Group', group.id) }),
    fullPath: t.exposeString('fullPath', { nullable: false }),
    experimentFeaturesEnabled: t.exposeBoolean('experimentFeaturesEnabled', {
      nullable: false,
      description: 'Experiment and beta AI features may be used.',
    }),
    duoFeaturesEnabled: t.exposeBoolean('duoFeaturesEnabled', {
      nullable: false,
      description: 'GitLab Duo may be used.',
    }),
    thirdPartyAiFeaturesEnabled: t.exposeBoolean('thirdPartyAiFeaturesEnabled', { nullable: false }),
  }),
});

builder.mutationField('groupAiSettingsUpdate', (t) =>
  t.field({
    type: GroupAiSettingsRef,
    nullable: false,
    description: "Changes a group's AI settings. Group owners and administrators only.",
    args: {
      groupId: t.arg({ type: 'NamespaceID', required: true }),
      experimentFeaturesEnabled: t.arg.boolean(),
      duoFeaturesEnabled: t.arg.boolean(),
      thirdPartyAiFeaturesEnabled: t.arg.boolean(),
    },
    resolve: async (_root, args, context) => {
      const authentication = requireWriter(context);
      const { id } = parseGlobalIdOf(args.groupId, ['Group']);
      const { directory, database, redis, config } = context.services;
      const isOwner =
        authentication.user.admin ||
        (await directory.groupAccessLevel(authentication.user.id, id)) >= accessLevels.owner;
      if (!isOwner) throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
      const changes = {
        ...(args.experimentFeaturesEnabled == null
          ? {}
          : { experimentFeaturesEnabled: args.experimentFeaturesEnabled }),
        ...(args.duoFeaturesEnabled == null ? {} : { duoFeaturesEnabled: args.duoFeaturesEnabled }),
        ...(args.thirdPartyAiFeaturesEnabled == null
          ? {}
          : { thirdPartyAiFeaturesEnabled: args.thirdPartyAiFeaturesEnabled }),
      };
      if (Object.keys(changes).length === 0)
        throw new AppError('BAD_USER_INPUT', 'Give at least one setting to change');
      const [updated] = await database.db.update(groups).set(changes).where(eq(groups.id, id)).returning();
      if (!updated) throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
      directory.invalidate();
      await redis.publish(accessInvalidationChannel(config.REDIS_KEY_PREFIX), `group:${id}`);
      return updated;
    },
  }),
);

const AiProviderEnum = builder.enumType('AiFeatureProvider', {
  description: 'A provider that can serve an AI feature.',
  values: {
    ANTHROPIC: { value: 'anthropic' },
    VERTEX: { value: 'vertex' },
    SELF_HOSTED: { value: 'self_hosted' },
    FAKE: { value: 'fake' },
  } as const,
});

interface AiFeatureSettingShape {
  groupId: number;
  feature: string;
  provider: string;
  model: string | null;
}

const AiFeatureSettingRef = builder.objectRef<AiFeatureSettingShape>('AiFeatureSetting').implement({
  description: 'Which provider and model serve an AI feature for a root group.',
  fields: (t) => ({
    groupId: t.field({
      type: 'NamespaceID',
      nullable: false,
      resolve: (setting) => toGlobalId('Group', setting.groupId),
    }),
    feature: t.exposeString('feature', { nullable: false, description: 'GitLab action name, e.g. `explain_code`.' }),
    provider: t.exposeString('provider', { nullable: false }),
    model: t.exposeString('model', { nullable: true }),
  }),
});

builder.mutationField('aiFeatureSettingUpdate', (t) =>
  t.field({
    type: AiFeatureSettingRef,
    nullable: true,
    description:
      "Chooses the provider and model that serve a feature for a root group (null provider: back to the service's default). Group owners and administrators only; AI_PROVIDER in the environment overrides it.",
    args: {
      groupId: t.arg({ type: 'NamespaceID', required: true }),
      feature: t.arg({ type: AiActionEnum, required: true }),
      provider: t.arg({ type: AiProviderEnum, required: false }),
      model: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, context) => {
      const authentication = requireWriter(context);
      const { id } = parseGlobalIdOf(args.groupId, ['Group']);
      const { directory, database, redis, config } = context.services;
      const chain = await directory.groupChain(id);
      if (chain.length !== 1) throw new AppError('BAD_USER_INPUT', 'Feature settings belong to a root group');
      const isOwner =
        authentication.user.admin ||
        (await directory.groupAccessLevel(authentication.user.id, id)) >= accessLevels.owner;
      if (!isOwner) throw new AppError('FORBIDDEN', resourceNotAvailableMessage);
      if (args.model != null && (args.model.length === 0 || args.model.length > 100)) {
        throw new AppError('BAD_USER_INPUT', 'model must be 1 to 100 characters');
      }
      const feature = String(args.feature);
      let result: AiFeatureSettingShape | null = null;
      if (args.provider == null) {
        await database.db
          .delete(aiFeatureSettings)
          .where(and(eq(aiFeatureSettings.groupId, id), eq(aiFeatureSettings.feature, feature)));
      } else {
        const values = {
          groupId: id,
          feature,
          provider: args.provider,
          model: args.model ?? null,
          updatedAt: new Date(),
        };
        const [saved] = await database.db
          .insert(aiFeatureSettings)
          .values(values)
          .onConflictDoUpdate({ target: [aiFeatureSettings.groupId, aiFeatureSettings.feature], set: values })
          .returning();
        result = saved ?? null;
      }
      directory.invalidate();
      await redis.publish(accessInvalidationChannel(config.REDIS_KEY_PREFIX), `feature-setting:${id}`);
      return result;
    },
  }),
);
