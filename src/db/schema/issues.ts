import { boolean, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { projects } from './projects.ts';
import { users } from './users.ts';

export const issues = pgTable(
  'issues',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    /** Number inside the project (`#12`). */
    iid: integer('iid').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    /** Confidential issues are readable by their author, assignee and reporters or above. */
    confidential: boolean('confidential').notNull().default(false),
    state: text('state', { enum: ['opened', 'closed'] })
      .notNull()
      .default('opened'),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    assigneeId: integer('assignee_id').references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('issues_project_iid_unique').on(table.projectId, table.iid)],
);

export type Issue = typeof issues.$inferSelect;
