import { integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/** GitLab access levels. */
export const accessLevels = {
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

/** Membership of a user in a group (inherited by its subgroups and projects) or in one project. */
export const members = pgTable(
  'members',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sourceType: text('source_type', { enum: ['Group', 'Project'] }).notNull(),
    sourceId: integer('source_id').notNull(),
    accessLevel: integer('access_level').notNull(),
  },
  (table) => [unique('members_user_source_unique').on(table.userId, table.sourceType, table.sourceId)],
);

export type Member = typeof members.$inferSelect;
