import { bigint, index, integer, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** GitLab's Snowplow-style events (reference §6.7), kept in Postgres. */
export const trackingEvents = pgTable(
  'tracking_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    category: text('category').notNull(),
    action: text('action').notNull(),
    label: text('label'),
    property: text('property'),
    value: numeric('value', { mode: 'number' }),
    userId: integer('user_id'),
    namespaceId: integer('namespace_id'),
    projectId: integer('project_id'),
    /** vscode, jetbrains, jetbrains_bundled, visual_studio, neovim, gitlab_cli, web_ide or web. */
    client: text('client'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('tracking_events_action_created_at_idx').on(table.action, table.createdAt)],
);

export type TrackingEvent = typeof trackingEvents.$inferInsert;
