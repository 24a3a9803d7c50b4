import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { projects } from './projects.ts';
import { users } from './users.ts';

/** CI jobs (GitLab's `Ci::Build`) with their trace. */
export const ciBuilds = pgTable(
  'ci_builds',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    stage: text('stage').notNull(),
    status: text('status', { enum: ['created', 'pending', 'running', 'success', 'failed', 'canceled'] }).notNull(),
    ref: text('ref').notNull(),
    userId: integer('user_id').references(() => users.id),
    log: text('log').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('ci_builds_project_id_idx').on(table.projectId)],
);

export type CiBuild = typeof ciBuilds.$inferSelect;
