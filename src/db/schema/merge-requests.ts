import { integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { projects } from './projects.ts';
import { users } from './users.ts';

export interface MergeRequestCommit {
  sha: string;
  title: string;
  message: string;
}

export const mergeRequests = pgTable(
  'merge_requests',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    projectId: integer('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    iid: integer('iid').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    sourceBranch: text('source_branch').notNull(),
    targetBranch: text('target_branch').notNull(),
    state: text('state', { enum: ['opened', 'closed', 'merged'] })
      .notNull()
      .default('opened'),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    /** Unified diff of the merge request. */
    diff: text('diff').notNull().default(''),
    commits: jsonb('commits').$type<MergeRequestCommit[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [unique('merge_requests_project_iid_unique').on(table.projectId, table.iid)],
);

export type MergeRequest = typeof mergeRequests.$inferSelect;
