import { boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Feature flags. `ops` flags default on (kill switches such as `ai_global_switch`); `development`
 * flags default off. `enabled` is the boolean gate; finer gates live in `feature_flag_gates`.
 */
export const featureFlags = pgTable('feature_flags', {
  name: text('name').primaryKey(),
  type: text('type', { enum: ['development', 'ops'] })
    .notNull()
    .default('development'),
  enabled: boolean('enabled').notNull().default(false),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Actor and percentage gates of a flag (Flipper-style, as GitLab uses). */
export const featureFlagGates = pgTable(
  'feature_flag_gates',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    flagName: text('flag_name')
      .notNull()
      .references(() => featureFlags.name, { onDelete: 'cascade' }),
    gate: text('gate', { enum: ['actor', 'percentage_of_actors', 'percentage_of_time'] }).notNull(),
    /** For actor gates: `User`, `Group` or `Project`. */
    actorType: text('actor_type', { enum: ['User', 'Group', 'Project'] }),
    actorId: integer('actor_id'),
    /** For percentage gates: 0..100. */
    percentage: integer('percentage'),
  },
  (table) => [index('feature_flag_gates_flag_name_idx').on(table.flagName)],
);

export type FeatureFlag = typeof featureFlags.$inferSelect;
export type FeatureFlagGate = typeof featureFlagGates.$inferSelect;
