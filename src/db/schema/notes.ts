import { boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/** Comments on issues, merge requests and epics. */
export const notes = pgTable(
  'notes',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    noteableType: text('noteable_type', { enum: ['Issue', 'MergeRequest', 'Epic'] }).notNull(),
    noteableId: integer('noteable_id').notNull(),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    note: text('note').notNull(),
    /** System notes ("changed the description") are not user comments and are never summarized. */
    system: boolean('system').notNull().default(false),
    /** Internal notes are visible to reporters and above only. */
    internal: boolean('internal').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('notes_noteable_idx').on(table.noteableType, table.noteableId)],
);

export type Note = typeof notes.$inferSelect;
