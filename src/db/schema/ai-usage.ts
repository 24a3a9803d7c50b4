import { bigint, date, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/**
 * Tokens each user spent per day, feature and model: the per-user totals behind
 * `gitlab_cloud_cost_spend_entry_total`, kept in Postgres so they survive restarts and can be billed.
 */
export const aiUsageDaily = pgTable(
  'ai_usage_daily',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    /** GitLab action name (`chat`). */
    feature: text('feature').notNull(),
    /** `<provider>:<model>` that answered. */
    model: text('model').notNull(),
    requests: integer('requests').notNull().default(0),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    /** Requests whose counts were estimated (characters / 4) because the provider reported none. */
    estimatedRequests: integer('estimated_requests').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.userId, table.day, table.feature, table.model] })],
);
