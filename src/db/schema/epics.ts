import { boolean, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { groups } from './groups.ts';
import { users } from './users.ts';

export const epics = pgTable(
  'epics',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    groupId: integer('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    iid: integer('iid').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    confidential: boolean('confidential').notNull().default(false),
    state: text('state', { enum: ['opened', 'closed'] })
      .notNull()
      .default('opened'),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('epics_group_iid_unique').on(table.groupId, table.iid)],
);

export type Epic = typeof epics.$inferSelect;
