import { boolean, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { groups, visibilityLevels } from './groups.ts';

export const projects = pgTable(
  'projects',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    groupId: integer('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Full path, e.g. `gitlab-org/gitlab`. */
    fullPath: text('full_path').notNull().unique(),
    visibility: text('visibility', { enum: visibilityLevels }).notNull().default('private'),
    duoFeaturesEnabled: boolean('duo_features_enabled').notNull().default(true),
  },
  (table) => [index('projects_group_id_idx').on(table.groupId)],
);

export type Project = typeof projects.$inferSelect;
