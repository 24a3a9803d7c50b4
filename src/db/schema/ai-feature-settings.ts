import { integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { groups } from './groups.ts';

export const featureSettingProviders = ['anthropic', 'vertex', 'self_hosted', 'fake'] as const;
export type FeatureSettingProvider = (typeof featureSettingProviders)[number];

/**
 * GitLab's self-hosted "feature settings": which provider and model serve an AI feature for a root
 * group. Absent: the service's default chain. `AI_PROVIDER` in the environment overrides both.
 */
export const aiFeatureSettings = pgTable(
  'ai_feature_settings',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    groupId: integer('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    /** GitLab's snake_case action name (`explain_code`). */
    feature: text('feature').notNull(),
    provider: text('provider', { enum: featureSettingProviders }).notNull(),
    /** Model id at that provider; the provider's configured model when null. */
    model: text('model'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('ai_feature_settings_group_feature_unique').on(table.groupId, table.feature)],
);

export type AiFeatureSetting = typeof aiFeatureSettings.$inferSelect;
