import { type AnyPgColumn, boolean, date, integer, pgTable, primaryKey, text, unique } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

export const visibilityLevels = ['private', 'internal', 'public'] as const;
export type Visibility = (typeof visibilityLevels)[number];

/** Groups (namespaces). Plan, add-ons and AI settings live on the root group. */
export const groups = pgTable('groups', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  parentId: integer('parent_id').references((): AnyPgColumn => groups.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  /** Full path, e.g. `gitlab-org/ai`; unique across the instance. */
  fullPath: text('full_path').notNull().unique(),
  visibility: text('visibility', { enum: visibilityLevels }).notNull().default('private'),
  plan: text('plan', { enum: ['free', 'premium', 'ultimate'] })
    .notNull()
    .default('free'),
  /** GitLab's "Experiment and beta features" switch (StageCheck). */
  experimentFeaturesEnabled: boolean('experiment_features_enabled').notNull().default(false),
  /** GitLab's "Use GitLab Duo features" switch, inherited by subgroups and projects. */
  duoFeaturesEnabled: boolean('duo_features_enabled').notNull().default(true),
  thirdPartyAiFeaturesEnabled: boolean('third_party_ai_features_enabled').notNull().default(true),
});

/** A purchased add-on (Duo Pro / Duo Enterprise) with its number of seats. */
export const groupAddOns = pgTable(
  'group_add_ons',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    groupId: integer('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    addOn: text('add_on', { enum: ['duo_pro', 'duo_enterprise'] }).notNull(),
    seats: integer('seats').notNull(),
    expiresOn: date('expires_on', { mode: 'string' }),
  },
  (table) => [unique('group_add_ons_group_add_on_unique').on(table.groupId, table.addOn)],
);

/** Which users hold a seat of an add-on. */
export const addOnSeatAssignments = pgTable(
  'add_on_seat_assignments',
  {
    groupAddOnId: integer('group_add_on_id')
      .notNull()
      .references(() => groupAddOns.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (table) => [primaryKey({ columns: [table.groupAddOnId, table.userId] })],
);

export type Group = typeof groups.$inferSelect;
